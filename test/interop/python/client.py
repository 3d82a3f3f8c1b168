"""Drives Switchboard with Debian's python3-socketio (a real third-party client).

Usage: client.py URL MODE   (MODE: polling | websocket | upgrade)
Prints one JSON object with what the client observed; the Node test asserts it.
"""
import json
import sys
import threading

import socketio

url, mode = sys.argv[1], sys.argv[2]
transports = None if mode == "upgrade" else [mode]

result = {"errors": []}
events = {name: threading.Event() for name in ("echo", "bin", "welcome", "asked", "pushed")}

sio = socketio.Client(reconnection=False)


@sio.on("echo")
def on_echo(data):
    result["echo"] = data
    events["echo"].set()


@sio.on("bin")
def on_bin(data):
    result["bin"] = list(data) if isinstance(data, (bytes, bytearray)) else repr(data)
    events["bin"].set()


@sio.on("ask")
def on_ask(question):
    # The server waits for this return value as its ack (server-to-client ack).
    events["asked"].set()
    return {"answer": question["n"] * 2}


@sio.on("pushed")
def on_pushed(data):
    result["pushed"] = data
    events["pushed"].set()


@sio.on("welcome", namespace="/chat")
def on_welcome(data):
    result["welcome"] = data
    events["welcome"].set()


def wait(name):
    if not events[name].wait(5):
        result["errors"].append("timeout waiting for " + name)


try:
    sio.connect(url, transports=transports, namespaces=["/", "/chat"], auth={"token": "py"}, wait_timeout=5)
    result["transport"] = sio.transport()
    sio.emit("echo", {"text": "hello", "n": [1, 2, 3]})
    wait("echo")
    result["sum"] = sio.call("sum", [20, 22], timeout=5)
    sio.emit("bin", b"\x00\x01\x02\xff")
    wait("bin")
    sio.emit("ask-me", 21)
    wait("asked")
    wait("pushed")
    wait("welcome")
    result["chatAck"] = sio.call("whoami", namespace="/chat", timeout=5)
    sio.disconnect()
except Exception as exc:  # reported to the Node test, which fails on it
    result["errors"].append(type(exc).__name__ + ": " + str(exc))

print(json.dumps(result))
