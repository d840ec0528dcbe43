"""The grader's end of the call channel, against a socket playing a (hostile) kernel."""

import json
import socket
import struct

import numpy as np
import pytest

from autograder.judge.channel import FRAME, HEADER, MAX_JSON_BYTES, CallChannel, ChannelClosed, pack
from autograder.judge.wire import WireError


@pytest.fixture
def kernel(tmp_path):
    """(channel, kernel's end): a listening socket where a kernel's would be, connected."""
    path = tmp_path / "calls"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    channel = CallChannel(path)
    channel.connect()
    end, _ = server.accept()
    yield channel, end
    channel.close()
    end.close()
    server.close()


def read_request(end):
    size, count = HEADER.unpack(end.recv(HEADER.size, socket.MSG_WAITALL))
    request = json.loads(end.recv(size, socket.MSG_WAITALL))
    frames = []
    for _ in range(count):
        (length,) = FRAME.unpack(end.recv(FRAME.size, socket.MSG_WAITALL))
        frames.append(end.recv(length, socket.MSG_WAITALL) if length else b"")
    return request, frames


def answer(channel, end, data, call_id):
    end.sendall(data)
    for _ in range(100):
        channel.receive()
        reply = channel.reply_to(call_id)
        if reply is not None:
            return reply
    return None


def test_a_call_goes_out_with_its_frames_and_its_reply_comes_back(kernel):
    channel, end = kernel
    array = np.arange(6.0).reshape(2, 3)
    call_id = channel.send({"function": "f", "args": [1]}, [array.reshape(-1).view(np.uint8)], timeout=5)
    request, frames = read_request(end)
    assert request == {"function": "f", "args": [1], "id": call_id}
    assert np.array_equal(np.frombuffer(frames[0]).reshape(2, 3), array)
    reply = answer(channel, end, b"".join(bytes(p) for p in pack({"id": call_id, "returned": 2}, [b"xyz", b""])), call_id)
    assert reply == ({"id": call_id, "returned": 2}, [b"xyz", b""])


def test_replies_to_other_calls_are_skipped(kernel):
    channel, end = kernel
    call_id = channel.send({"function": "f", "args": []}, [], timeout=5)
    read_request(end)
    strays = [pack({"id": call_id + 1, "returned": "stray"}, []), pack({"returned": "no id"}, []),
              pack({"id": str(call_id), "returned": "id as text"}, []), pack([call_id], [])]
    true = pack({"id": call_id, "returned": "true"}, [])
    data = b"".join(bytes(p) for message in strays + [true] for p in message)
    assert answer(channel, end, data, call_id)[0]["returned"] == "true"


@pytest.mark.parametrize("data", [
    HEADER.pack(MAX_JSON_BYTES + 1, 0),
    HEADER.pack(2, 1) + b"{}" + FRAME.pack(1 << 40),
    HEADER.pack(5, 0) + b"nope!",
], ids=["huge JSON", "huge frame", "not JSON"])
def test_a_malformed_reply_breaks_the_channel(kernel, data):
    channel, end = kernel
    call_id = channel.send({"function": "f", "args": []}, [], timeout=5)
    read_request(end)
    with pytest.raises(WireError):
        answer(channel, end, data, call_id)
    assert channel.socket is None and not channel.started()  # nothing more is read from that stream


def test_a_closed_kernel_end_and_a_missing_socket_say_so(kernel, tmp_path):
    channel, end = kernel
    end.close()
    with pytest.raises(ChannelClosed):
        channel.receive()
    with pytest.raises(ChannelClosed):
        CallChannel(tmp_path / "nothing-here").connect()


def test_a_kernel_that_stops_reading_does_not_hold_the_grader(kernel):
    channel, end = kernel
    with pytest.raises(ChannelClosed):
        channel.send({"function": "f", "args": []}, [np.zeros(8 << 20, np.uint8)], timeout=0.5)


def test_a_call_socket_path_too_long_for_a_unix_socket_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="more than the 107 a unix socket's path may be: set TMPDIR"):
        CallChannel("/tmp/" + "x" * 103 + "/calls")
    CallChannel("/tmp/" + "x" * 96 + "/calls")  # 107 bytes: allowed
