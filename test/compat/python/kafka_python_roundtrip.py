"""kafka-python round trip against minikafka, driven by kafka-python.test.ts.

Usage: /usr/bin/python3 kafka_python_roundtrip.py BOOTSTRAP TOPIC COUNT KEY_COUNT TIMEOUT_SECONDS

KafkaAdminClient creates the topic with 3 partitions, KafkaProducer sends COUNT keyed messages
(message i: key "key-(i % KEY_COUNT)", value "key-N/seq-(i // KEY_COUNT)"), and a KafkaConsumer
without a group_id reads every partition by assign() + seek_to_beginning() up to the end offsets
from ListOffsets. Prints one JSON document on stdout; diagnostics go to stderr.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

PARTITIONS = 3
MAX_POLLS = 2000


def fail(message):
    print(f"kafka_python_roundtrip: {message}", file=sys.stderr)
    sys.exit(1)


def create_topic(servers, topic):
    admin = KafkaAdminClient(bootstrap_servers=servers, client_id="compat-kafka-python-admin", request_timeout_ms=10000)
    try:
        response = admin.create_topics([NewTopic(name=topic, num_partitions=PARTITIONS, replication_factor=3)], timeout_ms=10000)
        errors = [entry for entry in response.topic_errors if entry[1] != 0]
        if errors:
            fail(f"create_topics errors: {errors}")
    finally:
        admin.close()


def produce(servers, topic, count, key_count):
    producer = KafkaProducer(bootstrap_servers=servers, client_id="compat-kafka-python-producer", acks="all", linger_ms=5)
    try:
        futures = []
        for index in range(count):
            key = f"key-{index % key_count}"
            futures.append(producer.send(topic, key=key.encode(), value=f"{key}/seq-{index // key_count}".encode()))
        producer.flush(timeout=15)
        for future in futures:
            future.get(timeout=15)
    finally:
        producer.close(timeout=5)


def partitions_of(consumer, topic, deadline):
    for _ in range(100):
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return sorted(partitions)
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    fail(f"no metadata for {topic}")


def consume(servers, topic, deadline):
    consumer = KafkaConsumer(bootstrap_servers=servers, client_id="compat-kafka-python-consumer", group_id=None, enable_auto_commit=False)
    try:
        partitions = partitions_of(consumer, topic, deadline)
        if len(partitions) != PARTITIONS:
            fail(f"metadata shows partitions {partitions} for {topic}")
        assigned = [TopicPartition(topic, partition) for partition in partitions]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end_offsets = consumer.end_offsets(assigned)
        records = []
        for _ in range(MAX_POLLS):
            if all(consumer.position(tp) >= end_offsets[tp] for tp in assigned) or time.monotonic() > deadline:
                break
            for tp, messages in consumer.poll(timeout_ms=200).items():
                for message in messages:
                    records.append({
                        "partition": tp.partition,
                        "offset": message.offset,
                        "key": message.key.decode() if message.key is not None else None,
                        "value": message.value.decode() if message.value is not None else None,
                    })
        behind = [(tp.partition, consumer.position(tp), end_offsets[tp]) for tp in assigned if consumer.position(tp) < end_offsets[tp]]
        if behind:
            fail(f"positions behind the end offsets (partition, position, end): {behind}")
        return partitions, records
    finally:
        consumer.close(autocommit=False)


def main():
    bootstrap, topic, count, key_count, timeout_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    deadline = time.monotonic() + timeout_seconds
    servers = bootstrap.split(",")
    create_topic(servers, topic)
    produce(servers, topic, count, key_count)
    partitions, records = consume(servers, topic, deadline)
    print(json.dumps({"client": "kafka-python", "partitions": len(partitions), "records": records}))


if __name__ == "__main__":
    main()
