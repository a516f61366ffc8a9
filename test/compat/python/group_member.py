"""One consumer-group member (confluent-kafka-python or kafka-python), driven by the groups-*.test.ts files.

Usage: /usr/bin/python3 group_member.py CLIENT CONFIG_JSON
  CLIENT       confluent-kafka-python | kafka-python
  CONFIG_JSON  {"bootstrap": "h:p,...", "topic": str, "groupId": str, "memberName": str,
                "sessionTimeoutMs": int, "heartbeatIntervalMs": int, "rebalanceTimeoutMs": int,
                "strategy": "range" | "roundrobin" | "cooperative-sticky",
                "groupInstanceId": str | null, "deadlineSeconds": float}

The member subscribes to the topic, reads from the earliest offset when the group has no commit,
and after every non-empty poll commits (synchronously) the offset after the last record it saw in
each partition. It reports what happens as one JSON object per line on stdout, flushed at once so
the test can time the events as they arrive:
  {"event": "subscribed"}
  {"event": "assigned", "added": [p...], "owned": [p...]}     (assignment callback)
  {"event": "revoked",  "removed": [p...], "owned": [p...]}   (revocation or loss callback)
  {"event": "records",  "records": [{"partition", "offset", "key", "value"}...]}
  {"event": "committed", "offsets": {"p": next_offset...}}
  {"event": "commit_failed", "message": str}                 (not fatal: a rebalance raced it)
  {"event": "closed"}                                        (after a clean close, then exit 0)
  {"event": "fatal", "message": str}                         (then exit 1)
Commands come on stdin, one a line: "close" closes cleanly (LeaveGroup unless static) and exits.
End of stdin (the test process went away) does the same. Diagnostics go to stderr.
"""
import json
import queue
import sys
import threading
import time

MAX_POLLS = 100_000
POLL_TIMEOUT_SECONDS = 0.1
MAX_RECORDS_PER_POLL = 500


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(message):
    emit("fatal", message=message)
    sys.exit(1)


def start_command_reader():
    commands = queue.Queue()

    def read():
        for line in sys.stdin:
            if line.strip():
                commands.put(line.strip())
        commands.put("close")

    threading.Thread(target=read, name="stdin-commands", daemon=True).start()
    return commands


class Ownership:
    """The partitions this member owns, kept from the assignment callbacks."""

    def __init__(self, cooperative):
        self.cooperative = cooperative
        self.owned = set()

    def assigned(self, partitions):
        added = sorted(partitions)
        self.owned = self.owned | set(added) if self.cooperative else set(added)
        emit("assigned", added=added, owned=sorted(self.owned))

    def revoked(self, partitions):
        removed = sorted(partitions)
        self.owned = self.owned - set(removed) if self.cooperative else set()
        emit("revoked", removed=removed, owned=sorted(self.owned))


def record_json(partition, offset, key, value):
    return {
        "partition": partition,
        "offset": offset,
        "key": key.decode() if key is not None else None,
        "value": value.decode() if value is not None else None,
    }


class ConfluentMember:
    def __init__(self, config):
        from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

        self.KafkaError = KafkaError
        self.KafkaException = KafkaException
        self.TopicPartition = TopicPartition
        self.topic = config["topic"]
        self.ownership = Ownership(config["strategy"] == "cooperative-sticky")
        settings = {
            "bootstrap.servers": config["bootstrap"],
            "group.id": config["groupId"],
            "client.id": config["memberName"],
            "session.timeout.ms": config["sessionTimeoutMs"],
            "heartbeat.interval.ms": config["heartbeatIntervalMs"],
            "max.poll.interval.ms": max(config["rebalanceTimeoutMs"], config["sessionTimeoutMs"]),
            "partition.assignment.strategy": config["strategy"],
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 100,
            "topic.metadata.refresh.interval.ms": 1000,
        }
        if config.get("groupInstanceId"):
            settings["group.instance.id"] = config["groupInstanceId"]
        self.consumer = Consumer(settings)

    def subscribe(self):
        self.consumer.subscribe(
            [self.topic],
            on_assign=lambda _consumer, partitions: self.ownership.assigned(tp.partition for tp in partitions),
            on_revoke=lambda _consumer, partitions: self.ownership.revoked(tp.partition for tp in partitions),
            on_lost=lambda _consumer, partitions: self.ownership.revoked(tp.partition for tp in partitions),
        )

    def poll(self):
        records = []
        for message in self.consumer.consume(num_messages=MAX_RECORDS_PER_POLL, timeout=POLL_TIMEOUT_SECONDS):
            error = message.error()
            if error is not None:
                if error.code() == self.KafkaError._PARTITION_EOF:
                    continue
                print(f"group_member: consumer error: {error}", file=sys.stderr)
                if error.fatal():
                    fail(f"fatal consumer error: {error}")
                continue
            records.append(record_json(message.partition(), message.offset(), message.key(), message.value()))
        return records

    def commit(self, next_offsets):
        offsets = [self.TopicPartition(self.topic, partition, offset) for partition, offset in next_offsets.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
            return None
        except self.KafkaException as error:
            return str(error)

    def close(self):
        self.consumer.close()


class KafkaPythonMember:
    def __init__(self, config):
        from kafka import KafkaConsumer, TopicPartition
        from kafka.consumer.subscription_state import ConsumerRebalanceListener
        from kafka.coordinator.assignors.range import RangePartitionAssignor
        from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
        from kafka.errors import KafkaError
        from kafka.structs import OffsetAndMetadata

        assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
        if config["strategy"] not in assignors:
            fail(f"kafka-python has no {config['strategy']} assignor")
        if config.get("groupInstanceId"):
            fail("kafka-python 2.0.2 has no static membership (group.instance.id)")
        self.KafkaError = KafkaError
        self.TopicPartition = TopicPartition
        self.OffsetAndMetadata = OffsetAndMetadata
        self.topic = config["topic"]
        ownership = Ownership(cooperative=False)
        self.ownership = ownership

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                ownership.revoked(tp.partition for tp in revoked)

            def on_partitions_assigned(self, assigned):
                ownership.assigned(tp.partition for tp in assigned)

        self.listener = Listener()
        self.consumer = KafkaConsumer(
            bootstrap_servers=config["bootstrap"].split(","),
            group_id=config["groupId"],
            client_id=config["memberName"],
            session_timeout_ms=config["sessionTimeoutMs"],
            heartbeat_interval_ms=config["heartbeatIntervalMs"],
            max_poll_interval_ms=max(config["rebalanceTimeoutMs"], config["sessionTimeoutMs"]),
            partition_assignment_strategy=[assignors[config["strategy"]]],
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
            metadata_max_age_ms=1000,
        )

    def subscribe(self):
        self.consumer.subscribe([self.topic], listener=self.listener)

    def poll(self):
        records = []
        batches = self.consumer.poll(timeout_ms=int(POLL_TIMEOUT_SECONDS * 1000), max_records=MAX_RECORDS_PER_POLL)
        for tp, messages in batches.items():
            for message in messages:
                records.append(record_json(tp.partition, message.offset, message.key, message.value))
        return records

    def commit(self, next_offsets):
        offsets = {self.TopicPartition(self.topic, partition): self.OffsetAndMetadata(offset, None) for partition, offset in next_offsets.items()}
        try:
            self.consumer.commit(offsets)
            return None
        except self.KafkaError as error:
            return str(error)

    def close(self):
        self.consumer.close(autocommit=False)


def run(member, deadline):
    commands = start_command_reader()
    member.subscribe()
    emit("subscribed")
    for _ in range(MAX_POLLS):
        if time.monotonic() > deadline:
            fail("deadline reached before a close command")
        try:
            command = commands.get_nowait()
        except queue.Empty:
            command = None
        if command == "close":
            member.close()
            emit("closed")
            return
        if command is not None:
            fail(f"unknown command {command!r}")
        records = member.poll()
        if not records:
            continue
        emit("records", records=records)
        next_offsets = {}
        for record in records:
            next_offsets[record["partition"]] = max(next_offsets.get(record["partition"], 0), record["offset"] + 1)
        error = member.commit(next_offsets)
        if error is None:
            emit("committed", offsets={str(partition): offset for partition, offset in next_offsets.items()})
        else:
            emit("commit_failed", message=error)
    fail(f"no close command after {MAX_POLLS} polls")


def main():
    if len(sys.argv) != 3:
        fail("usage: group_member.py CLIENT CONFIG_JSON")
    client, config = sys.argv[1], json.loads(sys.argv[2])
    deadline = time.monotonic() + float(config["deadlineSeconds"])
    if client == "confluent-kafka-python":
        member = ConfluentMember(config)
    elif client == "kafka-python":
        member = KafkaPythonMember(config)
    else:
        fail(f"unknown client {client!r}")
    run(member, deadline)


if __name__ == "__main__":
    main()
