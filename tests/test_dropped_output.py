"""The grader reads and drops a kernel's output between cells without decoding it: only the
small frames of a message are parsed, and any message it cannot read is simply not the one it
waits for."""

import json

import pytest
import zmq

from autograder.grade.polling import DELIMITER, HEADER_LIMIT, drop_output, is_idle_after


def message(msg_type="status", parent="probe", content=None, topic=b"kernel.abc.status", header=None):
    """A Jupyter message as it comes off the output channel, as frames."""
    content = {"execution_state": "idle"} if content is None else content
    parts = [topic, DELIMITER, b"signature", json.dumps(header or {"msg_type": msg_type}).encode(),
             json.dumps({"msg_id": parent}).encode(), b"{}", json.dumps(content).encode()]
    return [zmq.Frame(part) for part in parts]


def test_the_idle_status_after_the_request_is_recognised():
    assert is_idle_after(message(), "probe")


@pytest.mark.parametrize("frames", [
    message(parent="another request"),
    message(content={"execution_state": "busy"}),
    message(msg_type="stream", content={"name": "stdout", "text": "idle"}),
    message()[:5],  # cut short
    [zmq.Frame(b"no delimiter")] * 7,
    [zmq.Frame(part.bytes if index != 3 else b"not json") for index, part in enumerate(message())],
    [zmq.Frame(part.bytes if index != 3 else b"[1, 2]") for index, part in enumerate(message())],
    message(header={"msg_type": "status", "padding": "x" * HEADER_LIMIT}),
    message(content={"execution_state": "idle", "padding": "x" * HEADER_LIMIT}),
], ids=["other parent", "busy", "stream", "cut short", "no delimiter", "header not json", "header not a dict",
        "huge header", "huge content"])
def test_anything_else_is_not(frames):
    assert not is_idle_after(frames, "probe")


def test_every_waiting_message_is_dropped_and_the_idle_one_noticed():
    context = zmq.Context.instance()
    sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    sender.bind("inproc://dropped-output")
    receiver.connect("inproc://dropped-output")
    try:
        flood = message(msg_type="stream", parent="a cell", content={"name": "stdout", "text": "x" * (8 << 20)})
        for frames in [flood] * 20 + [message()] + [flood] * 3:
            sender.send_multipart(frames)
        assert drop_output(receiver, until="probe")
        assert receiver.poll(0) == 0
        sender.send_multipart(flood)
        assert not drop_output(receiver, until="probe")
        assert not drop_output(receiver)
        for frames in [flood] * 3 + [message()]:
            sender.send_multipart(frames)
        assert not drop_output(receiver, until="probe", most=3)  # stops after three, before the idle status
        assert drop_output(receiver, until="probe", most=3)
    finally:
        sender.close(0)
        receiver.close(0)
