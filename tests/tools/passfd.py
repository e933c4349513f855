#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# passfd: a client of fwd's that passes files with its requests (proto.h,
# "policy_file"), the right way or the wrong ones, and prints "ok" or the
# error fwd answered.
#   passfd.py SOCKET MODE FILE
# MODE: good (FILE passed for apply), extra (and one more file), none (no
# file passed), pipe (a pipe passed instead), size (the request says one
# byte more), wronly (FILE opened for writing only), twice (a "policy"
# string as well), status (two files passed with status), cold (FILE's
# pages dropped from memory first).
import json, os, socket, struct, sys

sock, mode, path = sys.argv[1:4]
size = os.path.getsize(path)
req = {"v": 1, "cmd": "apply", "policy_file": size}
fds = []
if mode == "pipe":
    fds = [os.pipe()[0]]
elif mode == "size":
    req["policy_file"] = size + 1
    fds = [os.open(path, os.O_RDONLY)]
elif mode == "wronly":
    fds = [os.open(path, os.O_WRONLY)]
elif mode == "twice":
    req["policy"] = "{}"
    fds = [os.open(path, os.O_RDONLY)]
elif mode == "status":
    req = {"v": 1, "cmd": "status"}
    fds = [os.open(path, os.O_RDONLY), os.open(path, os.O_RDONLY)]
elif mode == "cold":
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    fds = [fd]
elif mode in ("good", "extra"):
    fds = [os.open(path, os.O_RDONLY)]
    if mode == "extra":
        fds.append(os.open(path, os.O_RDONLY))
b = json.dumps(req).encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
socket.send_fds(s, [struct.pack(">I", len(b)) + b], fds)
h = b""
while len(h) < 4:
    h += s.recv(4 - len(h))
n = struct.unpack(">I", h)[0]
r = b""
while len(r) < n:
    r += s.recv(n - len(r))
r = json.loads(r)
print("ok" if r.get("ok") else r.get("error"))
