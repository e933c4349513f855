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
import ctypes, json, mmap, os, socket, struct, sys, time


def resident(fd, size):
    """How many of the file's pages are in memory (mincore)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                          ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                             ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    vec = (ctypes.c_ubyte * pages)()
    addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        sys.exit("passfd: mmap failed")
    libc.mincore(addr, size, vec)
    libc.munmap(addr, size)
    return sum(v & 1 for v in vec)


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
    # Its pages out of memory, and seen to be out (the kernel may keep a
    # page it has just been handed back for a moment).
    fd = os.open(path, os.O_RDONLY)
    for _ in range(50):
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if resident(fd, size) == 0:
            break
        time.sleep(0.02)
    else:
        sys.exit("passfd: the kernel keeps %s in memory" % path)
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
