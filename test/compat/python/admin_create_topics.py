"""Creates topics with a Python admin client against minikafka, for controller-failover tests.

Usage: /usr/bin/python3 admin_create_topics.py CLIENT BOOTSTRAP TIMEOUT_SECONDS TOPIC...

CLIENT is "confluent" (confluent_kafka.admin.AdminClient, librdkafka) or "kafka-python"
(kafka.admin.KafkaAdminClient). Each topic gets 2 partitions, replication factor 2 (one of the three nodes is killed in between); the client's
own retries cover a controller that moved. Prints one JSON document on stdout:
{"created": [...], "controller": <id the client saw>}; diagnostics go to stderr.
"""
import json
import sys
import time


def fail(message):
    print(f"admin_create_topics: {message}", file=sys.stderr)
    sys.exit(1)


def with_confluent(bootstrap, topics, timeout):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "compat-confluent-admin"})
    futures = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=2) for topic in topics], request_timeout=timeout)
    for topic, future in futures.items():
        future.result(timeout=timeout)
    metadata = admin.list_topics(timeout=timeout)
    missing = [topic for topic in topics if topic not in metadata.topics]
    if missing:
        fail(f"metadata lacks {missing}")
    return metadata.controller_id


def connect_kafka_python(admin_class, bootstrap, timeout, deadline):
    # kafka-python looks the controller up once, when the client is made, and fails if the
    # cluster names none at that moment; a caller retries.
    while True:
        try:
            return admin_class(bootstrap_servers=bootstrap, client_id="compat-kafka-python-admin", request_timeout_ms=int(timeout * 1000))
        except AssertionError as error:
            if time.monotonic() > deadline:
                fail(f"no controller: {error}")
            print(f"retrying the connect after {error}", file=sys.stderr)
            time.sleep(0.2)


def with_kafka_python(bootstrap, topics, timeout):
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import NotControllerError, RequestTimedOutError

    deadline = time.monotonic() + timeout
    admin = connect_kafka_python(KafkaAdminClient, bootstrap, timeout, deadline)
    pending = list(topics)
    while pending:
        try:
            admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=2) for topic in pending], timeout_ms=int(timeout * 1000))
            pending = []
        except (NotControllerError, RequestTimedOutError) as error:
            # kafka-python leaves retrying a moved controller to its caller.
            if time.monotonic() > deadline:
                fail(f"still {type(error).__name__} at the deadline")
            print(f"retrying after {type(error).__name__}", file=sys.stderr)
            admin.close()
            time.sleep(0.2)
            admin = connect_kafka_python(KafkaAdminClient, bootstrap, timeout, deadline)
            existing = set(admin.list_topics())
            pending = [topic for topic in pending if topic not in existing]
    existing = set(admin.list_topics())
    missing = [topic for topic in topics if topic not in existing]
    if missing:
        fail(f"list_topics lacks {missing}")
    controller = admin.describe_cluster()["controller_id"]
    admin.close()
    return controller


def main():
    if len(sys.argv) < 5:
        fail(__doc__)
    client, bootstrap, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    topics = sys.argv[4:]
    if client == "confluent":
        controller = with_confluent(bootstrap, topics, timeout)
    elif client == "kafka-python":
        controller = with_kafka_python(bootstrap, topics, timeout)
    else:
        fail(f"unknown client {client}")
    print(json.dumps({"created": topics, "controller": controller}))


main()
