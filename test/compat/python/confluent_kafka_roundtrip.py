"""confluent-kafka-python (librdkafka) round trip against minikafka, driven by confluent_kafka.test.ts.

Usage: /usr/bin/python3 confluent_kafka_roundtrip.py BOOTSTRAP TOPIC COUNT KEY_COUNT TIMEOUT_SECONDS

AdminClient creates the topic with 3 partitions, Producer sends COUNT keyed messages (message i:
key "key-(i % KEY_COUNT)", value "key-N/seq-(i // KEY_COUNT)"), and a Consumer reads every
partition by assign() from the beginning to end-of-partition. It never subscribes, so no group
protocol runs; group.id is only there because the Consumer constructor insists on it, and offset
commits are off. Prints one JSON document on stdout; diagnostics go to stderr.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
MAX_POLLS = 2000


def fail(message):
    print(f"confluent_kafka_roundtrip: {message}", file=sys.stderr)
    sys.exit(1)


def create_topic(bootstrap, topic, deadline):
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "compat-confluent-admin"})
    futures = admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=3)], request_timeout=10)
    futures[topic].result(timeout=max(1.0, deadline - time.monotonic()))
    metadata = admin.list_topics(topic=topic, timeout=10)
    partitions = sorted(metadata.topics[topic].partitions.keys())
    if len(partitions) != PARTITIONS:
        fail(f"metadata shows partitions {partitions} for {topic}")
    return partitions


def produce(bootstrap, topic, count, key_count):
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "compat-confluent-producer", "acks": "all", "linger.ms": 5})
    errors = []

    def on_delivery(error, message):
        if error is not None:
            errors.append(str(error))

    for index in range(count):
        key = f"key-{index % key_count}"
        producer.produce(topic, key=key.encode(), value=f"{key}/seq-{index // key_count}".encode(), on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(15)
    if remaining or errors:
        fail(f"{remaining} messages undelivered, delivery errors: {errors[:5]}")


def consume(bootstrap, topic, partitions, deadline):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "client.id": "compat-confluent-consumer",
        "group.id": "compat-unused-group",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
    })
    try:
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
        records = []
        finished = set()
        for _ in range(MAX_POLLS):
            if len(finished) == len(partitions) or time.monotonic() > deadline:
                break
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    finished.add(message.partition())
                    continue
                fail(f"consumer error: {message.error()}")
            records.append({
                "partition": message.partition(),
                "offset": message.offset(),
                "key": message.key().decode() if message.key() is not None else None,
                "value": message.value().decode() if message.value() is not None else None,
            })
        if len(finished) != len(partitions):
            fail(f"end of partition reached for {sorted(finished)} of {partitions} after {len(records)} records")
        return records
    finally:
        consumer.close()


def main():
    bootstrap, topic, count, key_count, timeout_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    deadline = time.monotonic() + timeout_seconds
    partitions = create_topic(bootstrap, topic, deadline)
    produce(bootstrap, topic, count, key_count)
    records = consume(bootstrap, topic, partitions, deadline)
    print(json.dumps({"client": "confluent-kafka-python", "partitions": len(partitions), "records": records}))


if __name__ == "__main__":
    main()
