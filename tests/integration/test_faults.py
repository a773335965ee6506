#!/usr/bin/env python3
"""Fault tests: crashes, full disks, failing flushes, bad links. Real
entrelab-broker / entrelab-node processes on loopback, set up and driven by the
real CLI (the Net and Site helpers of test_cli.py), each case in its own temp
dir with free ports. Waits are bounded; timings are printed, never asserted.

  test_faults.py --case NAME --cli BIN --node BIN --broker BIN --ctl BIN
                 [--long] [--seed N] [--keep]
Cases:
  crash       SIGKILL a node at random moments of a write burst (`event add`)
              and of an `event import`: 8 rounds (--long: 50). After each
              restart the store opens, every write the CLI acknowledged is
              there, no origin's chain has a gap, no reader slot of a dead
              process is left in the store's lock file, and the replica and
              the broker converge to the same heads. In a third of the rounds
              the replica, receiving, is killed too. The moments come from a
              seed, printed; --seed N replays a run.
  disk_full   a node's state folder on a small tmpfs (mounted by the test;
              where mounting is not permitted, a 1 MiB store limit instead,
              said in the output) fills while the CLI writes: each refused
              write says why and names the store's path, in the CLI and the
              log; nothing acknowledged is lost; once space is freed writes
              succeed again and reach the other site by themselves.
  fsync_eio   fdatasync (LMDB's commit flush) fails with EIO, injected by
              strace: no write is acknowledged meanwhile; after a restart
              without injection every acknowledged write is there. Then at
              the receiving site: its head does not move, the session ends,
              and it catches up by itself once flushes succeed again.
  link        a node reaches its broker through an in-test TCP proxy that
              delays bytes, drops connections, cuts them mid-frame and then
              partitions the link (20 s; --long: 180 s) while both sides keep
              writing; after healing, the sites converge (time printed).
"""
import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import el_it  # noqa: E402
from el_it import Skip, check, free_port, wait_for  # noqa: E402
from test_cli import NY, Net, Site, event_uids  # noqa: E402

CAL_HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//entrelab tests//EN\r\n"
CAL_TAIL = "END:VCALENDAR\r\n"


class FaultSite(Site):
    """A node whose state folder is @dir (e.g. on a small filesystem) and
    which connects to @connect (e.g. a proxy) instead of the hub's port."""

    def __init__(self, net, name, dir=None, connect=None, extra=()):
        self.net = net
        self.name = name
        self.broker = False
        self.dir = dir or os.path.join(net.tmp, name)
        self.log = os.path.join(net.tmp, name + ".log")
        self.log_mark = 0
        self.proc = None
        fast = ["--set", "reconnect_ivl_ms=100", "--set", "reconnect_ivl_max_ms=1000",
                "--set", "heartbeat_ivl_ms=500", "--set", "heartbeat_timeout_ms=3000",
                "--set", "log_level=info"]
        out = net.cli_ok(None, "init", self.dir, "--connect",
                         connect or "tcp://127.0.0.1:%d" % net.hub.port,
                         "--broker-key", net.hub.key, *(fast + list(extra)), json_out=True)
        self.key = out["key"]
        self.conf = out["config"]
        net.sites.append(self)
        net.cli_ok(net.hub, "admit", self.key, "--name", name)


def full_heads(net, s):
    """{origin: (seq, hash)} that site @s holds."""
    out = subprocess.run([net.args.ctl, "ipc://%s/control.sock" % s.dir, "heads"],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "heads of %s: %s" % (s.name, out.stderr.strip()))
    return {k: (v["seq"], v.get("hash")) for k, v in json.loads(out.stdout).items()}


def wait_agree(net, sites, what):
    """Wait until every site of @sites holds the same heads; @return them."""
    def same():
        hs = [full_heads(net, s) for s in sites]
        return hs[0] if all(h == hs[0] for h in hs[1:]) else None
    return wait_for(what, same)


def check_no_gap(net, s):
    """Every origin's chain at @s is whole: the store holds exactly as many
    entries as the heads' seqs add up to (seq 1..head of each origin)."""
    st = net.cli_ok(s, "status", json_out=True)["store"]
    hs = full_heads(net, s)
    total = sum(seq for seq, _ in hs.values())
    check(st["entries"] == total,
          "%s holds %d entries but its heads add up to %d: a gap (%r)"
          % (s.name, st["entries"], total, hs))


def check_reader_slots(s):
    """No reader slot of a dead process in @s's lock file (mdb_stat -rr runs
    mdb_reader_check and says how many it cleared). @return False when
    mdb_stat (lmdb-utils) is absent."""
    if not shutil.which("mdb_stat"):
        return False
    out = subprocess.run(["mdb_stat", "-rr", s.dir], capture_output=True, text=True, timeout=30)
    # (mdb_stat exits 1 after -rr whatever it found: read what it printed)
    m = re.search(r"(\d+) stale readers cleared", out.stdout)
    check(m, "mdb_stat -rr printed no stale reader count:\n%s%s" % (out.stdout, out.stderr))
    check(m.group(1) == "0", "%s: %s stale reader slots left after restart:\n%s"
          % (s.name, m.group(1), out.stdout))
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[0].isdigit():
            check(os.path.exists("/proc/%s" % f[0]), "reader slot of dead pid %s" % f[0])
    return True


def add_event(net, site, uid, day=1, timeout=None):
    """One `entrelab event add` (waiting @timeout s for the daemon, default
    the CLI's); @return its exit status and stderr."""
    more = ["--timeout", str(timeout)] if timeout else []
    rc, _, err = net.cli(site, "event", "add", "--uid", uid, "--summary", "Atelier " + uid,
                         "--start", "%s-03-%02d 18:00" % (NY, 1 + day % 28), "--duration", "2h",
                         *more)
    return rc, err


def ics_file(net, name, uids):
    lines = []
    for i, uid in enumerate(uids):
        lines.append("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T120000Z\r\n"
                     "DTSTART;TZID=Europe/Paris:%s04%02dT1%d0000\r\nSUMMARY:Import %s\r\n"
                     "END:VEVENT\r\n" % (uid, NY, 1 + i % 28, i % 10, uid))
    path = os.path.join(net.tmp, name)
    with open(path, "w", newline="") as f:
        f.write(CAL_HEAD + "".join(lines) + CAL_TAIL)
    return path


class Writer(threading.Thread):
    """`entrelab event add` in a loop at @site until stopped: records each
    uid the CLI acknowledged (exit 0) and each it refused."""

    def __init__(self, net, site, prefix, timeout=None, pause=0.0):
        super().__init__(daemon=True)
        self.net, self.site, self.prefix, self.timeout = net, site, prefix, timeout
        self.pause = pause
        self.acked, self.failed, self.errors = [], [], []
        self.halt = threading.Event()

    def run(self):
        i = 0
        while not self.halt.is_set():
            uid = "%s-%d" % (self.prefix, i)
            rc, err = add_event(self.net, self.site, uid, i, self.timeout)
            (self.acked if rc == 0 else self.failed).append(uid)
            if rc != 0:
                self.errors.append(err.strip())
            i += 1
            if self.pause:
                self.halt.wait(self.pause)

    def stop(self):
        self.halt.set()
        self.join(150)
        check(not self.is_alive(), "a CLI call hung")


def two_sites(net, a_dir=None, a_connect=None, a_extra=()):
    """The hub, node a (folder @a_dir, reaching the hub at @a_connect) and
    node b, started and admitted (the hub too, unless it runs)."""
    if net.hub.proc is None:
        net.hub.start()
    a = FaultSite(net, "a", dir=a_dir, connect=a_connect, extra=a_extra)
    b = FaultSite(net, "b")
    for s in (a, b):
        s.start()
    for s in (a, b):
        wait_for("%s admitted" % s.name,
                 lambda s=s: net.cli_ok(s, "status", json_out=True)["admitted"])
    return a, b


# ------------------------------------------------------------ crash

def case_crash(net):
    rounds = 50 if net.args.long else 8
    seed = net.args.seed if net.args.seed is not None else random.randrange(1 << 31)
    print("crash: %d rounds, seed %d (replay with --seed %d)" % (rounds, seed, seed))
    rng = random.Random(seed)
    a, b = two_sites(net)
    # how long an import of 3000 events takes here: the kills of an import
    # fall within that span, so that most cut it midway
    cal = ["cal-%d@t" % i for i in range(3000)]
    t0 = time.monotonic()
    net.cli_ok(a, "event", "import", ics_file(net, "cal.ics", cal))
    t_import = time.monotonic() - t0
    acked = set(cal)
    print("crash: an import of 3000 events takes %.2f s here" % t_import)
    slots_checked = False
    cut_imports = 0
    for r in range(rounds):
        mode = rng.choice(["burst", "import", "both"])
        kill_b = rng.random() < 1 / 3           # the replica too, while it receives
        delay = rng.uniform(0.02, 1.0) if mode == "burst" else rng.uniform(0.02, 1.5 * t_import)
        w = imp = None
        if mode in ("burst", "both"):
            # the call in flight when a dies waits this long for its reply
            w = Writer(net, a, "r%d" % r, timeout=2)
            w.start()
        if mode in ("import", "both"):
            uids = ["imp%d-%d@t" % (r, i) for i in range(3000)]
            path = ics_file(net, "r%d.ics" % r, uids)
            imp = subprocess.Popen([net.args.cli, "--node", a.dir, "--timeout", "2",
                                    "event", "import", path],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=dict(os.environ, TZ="Europe/Paris"))
        time.sleep(delay)
        imp_done = imp is not None and imp.poll() is not None
        for s in (a, b) if kill_b else (a,):
            os.kill(s.proc.pid, signal.SIGKILL)
        for s in (a, b) if kill_b else (a,):
            s.proc.wait()
            s.proc = None
        got = []
        if w:
            w.stop()
            acked.update(w.acked)
            got.append("%d/%d adds acked" % (len(w.acked), len(w.acked) + len(w.failed)))
        if imp:
            _, err = imp.communicate(timeout=150)
            if imp.returncode == 0:
                acked.update(uids)
            else:
                cut_imports += 1
            got.append("import of %d %s %s" % (len(uids), "done before" if imp_done else
                                                 "cut by the kill", "acked" if imp.returncode == 0
                                            else "refused (%s)" % err.decode().strip()[-60:]))
        t_restart = time.monotonic()
        for s in (a, b) if kill_b else (a,):
            s.start()                   # the store opens
            if s is b:
                check_reader_slots(b)
        have = set(event_uids(net, a))
        lost = acked - have
        check(not lost, "round %d: %d acknowledged writes lost after SIGKILL: %s"
              % (r, len(lost), sorted(lost)[:10]))
        if imp and imp.returncode != 0:
            got.append("%d of its events kept" % len(set(uids) & have))
        check_no_gap(net, a)
        slots_checked = check_reader_slots(a) or slots_checked
        heads = wait_agree(net, [a, b, net.hub], "round %d: a, b and the hub agreeing" % r)
        check_no_gap(net, b)
        print("round %2d: %-6s %s killed after %.2f s: %s; a's head %d; restart to agreement %.1f s"
              % (r, mode, "a, b" if kill_b else "a   ", delay, ", ".join(got), heads[a.key][0],
                 time.monotonic() - t_restart))
    check(acked <= set(event_uids(net, b)), "b lacks acknowledged events")
    if not slots_checked:
        print("note: mdb_stat (lmdb-utils) absent: reader slots not checked")
    print("crash: %d rounds (%d imports cut midway), %d acknowledged writes, none lost (seed %d)"
          % (rounds, cut_imports, len(acked), seed))


# ------------------------------------------------------------ disk full

def mount_small(path, mb):
    """Mount a @mb MiB tmpfs at @path: @return an error text, or None."""
    os.makedirs(path)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % mb,
                          "tmpfs", path], capture_output=True, text=True)
    return None if out.returncode == 0 else (out.stderr.strip() or "mount failed")


def case_disk_full(net):
    mnt = os.path.join(net.tmp, "small")
    why = "--no-mount given" if net.args.no_mount else mount_small(mnt, 8)
    if why:
        print("note: cannot mount a small filesystem here (%s): a 1 MiB store limit "
              "(map_max_mb=1) stands in for the full disk" % why)
        a_dir, a_extra, filler = None, ["--set", "map_max_mb=1"], None
    else:
        print("disk_full: a's state folder on an 8 MiB tmpfs at %s" % mnt)
        a_dir, a_extra = os.path.join(mnt, "a"), []
        filler = os.path.join(mnt, "filler")
    net.mounts.append(None if why else mnt)
    a, b = two_sites(net, a_dir=a_dir, a_extra=a_extra)
    if filler:
        st = os.statvfs(mnt)
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - (384 << 10)))
    acked, errors = [], []
    i = 0
    # write until the store refuses a few in a row (bounded)
    refused_run = 0
    while refused_run < 3:
        check(i < 20000, "20000 writes and the store never filled")
        uid = "full-%d" % i
        rc, err = add_event(net, a, uid, i)
        if rc == 0:
            acked.append(uid)
            refused_run = 0
        else:
            errors.append(err.strip())
            refused_run += 1
        i += 1
    store = os.path.join(a.dir, "data.mdb")
    print("disk_full: %d writes acknowledged, then refused: %s" % (len(acked), errors[-1]))
    for e in errors:
        check(store in e, "refused write does not name the store %s: %r" % (store, e))
        check(re.search(r"size limit|store_full|[Nn]o space left|disk holding it is full", e),
              "refused write does not say the disk is full: %r" % e)
    check(re.search(r"event=write_failed .*store=%s" % re.escape(store), a.log_text()),
          "a's log does not name its store for the failed write")
    check(set(acked) <= set(event_uids(net, a)), "a lost acknowledged writes")
    # free the space: writes succeed again, without a restart
    if filler:
        os.unlink(filler)
        rc, err = add_event(net, a, "after-free", 1)
        check(rc == 0, "a still refuses writes once space is freed: %s" % err.strip())
        acked.append("after-free")
    else:
        a.stop()          # the limit only changes at a restart
        with open(a.conf) as f:
            conf = f.read()
        with open(a.conf, "w") as f:
            f.write(re.sub(r"(?m)^map_max_mb\s*=.*$", "map_max_mb = 64", conf))
        a.start()
        rc, err = add_event(net, a, "after-free", 1)
        check(rc == 0, "a refuses writes after its limit was raised: %s" % err.strip())
        acked.append("after-free")
    check(a.proc and a.proc.poll() is None, "a died")
    wait_agree(net, [a, b, net.hub], "a's writes reaching b once space is back")
    check(set(acked) <= set(event_uids(net, b)), "b lacks a's acknowledged events")
    check_no_gap(net, b)
    print("disk_full: %d acknowledged writes at b, none lost" % len(acked))


# ------------------------------------------------------------ fsync EIO

def eio_tracer(site, log):
    """strace attached to every thread of @site's daemon, every flush
    failing with EIO. Skip (exit 77) where strace may not attach."""
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", log,
                               "-e", "trace=fdatasync,fsync,msync",
                               "-e", "inject=fdatasync,fsync,msync:error=EIO",
                               "-p", str(site.proc.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def attached():
        if tracer.poll() is not None:
            raise Skip("strace cannot attach here: %s" % tracer.stderr.read().strip())
        return traced(site.proc.pid)
    wait_for("strace attached to every thread of %s" % site.name, attached)
    return tracer


def traced(pid):
    """Every thread of @pid has a tracer attached."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
        for tid in tids:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                m = re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M)
            if not m or m.group(1) == "0":
                return False
        return bool(tids)
    except OSError:
        return False


def detach(tracer):
    tracer.send_signal(signal.SIGINT)
    try:
        tracer.wait(30)
    except subprocess.TimeoutExpired:
        tracer.kill()
        tracer.wait()


def case_fsync_eio(net):
    if not shutil.which("strace"):
        raise Skip("strace is not installed")
    a, b = two_sites(net, a_extra=["--set", "durable=true"])
    for i in range(3):
        rc, err = add_event(net, a, "pre-%d" % i, i)
        check(rc == 0, "write before injection: %s" % err.strip())
    # LMDB flushes a commit's pages with fdatasync (MDB_FDATASYNC on Linux,
    # no MDB_WRITEMAP: msync is never called) before it writes the meta page
    slog = os.path.join(net.tmp, "strace-a.log")
    tracer = eio_tracer(a, slog)
    try:
        acked, refused, errors = [], [], []
        deadline = time.monotonic() + 60
        i = 0
        while time.monotonic() < deadline and len(refused) < 5:
            uid = "eio-%d" % i
            rc, err = add_event(net, a, uid, i)
            # the tracer holds a: no flush succeeds, no write may be acknowledged
            check(rc != 0, "%s acknowledged while fdatasync fails" % uid)
            (acked if rc == 0 else refused).append(uid)
            if rc != 0:
                errors.append(err.strip())
            i += 1
    finally:
        detach(tracer)
    with open(slog) as f:
        injected = len(re.findall(r"= -1 EIO .*\(INJECTED\)", f.read()))
    check(injected >= len(refused), "strace injected %d failures for %d refused writes"
          % (injected, len(refused)))
    print("fsync_eio: %d writes refused, none acknowledged (%d EIO injected): %s"
          % (len(refused), injected, errors[-1]))
    store = os.path.join(a.dir, "data.mdb")
    for e in errors:
        check(store in e and "Input/output error" in e,
              "the refusal does not name the store and the error: %r" % e)
    check(a.proc.poll() is None, "a died under injected EIO (see a.log)")
    check(re.search(r"event=write_failed .*store=%s" % re.escape(os.path.join(a.dir, "data.mdb")),
                    a.log_text()), "a's log does not name its store for the failed flush")
    # restart without injection (SIGKILL: as if the machine went down)
    a.kill()
    a.start()
    have = set(event_uids(net, a))
    check({"pre-0", "pre-1", "pre-2"} <= have and set(acked) <= have,
          "acknowledged writes lost: %s" % sorted(set(acked) - have))
    present = sorted(set(refused) & have)
    print("fsync_eio: after restart, of the refused writes %d present (never acknowledged), "
          "%d absent" % (len(present), len(refused) - len(present)))
    check_no_gap(net, a)
    rc, err = add_event(net, a, "post", 5)
    check(rc == 0, "write after restart: %s" % err.strip())
    wait_agree(net, [a, b, net.hub], "a, b and the hub agreeing after the restart")
    check(set(acked) | {"post"} <= set(event_uids(net, b)), "b lacks acknowledged events")

    # the receiving side: b's flushes fail while a writes; b keeps nothing it
    # could not flush, ends the session, and catches up once they succeed again
    held = full_heads(net, b)[a.key][0]
    tracer = eio_tracer(b, os.path.join(net.tmp, "strace-b.log"))
    try:
        for i in range(20):
            rc, err = add_event(net, a, "recv-%d" % i, i)
            check(rc == 0, "a's write while b's flushes fail: %s" % err.strip())
        wait_for("b's log saying it could not keep what it received", lambda: re.search(
            r"event=receive_failed .*errno=5 .*store=%s .*action=session_ended"
            % re.escape(os.path.join(b.dir, "data.mdb")), b.log_text()))
        now = full_heads(net, b)[a.key][0]
        check(now == held, "b's head of a moved from %d to %d while its flushes failed"
              % (held, now))
    finally:
        detach(tracer)
    check(b.proc.poll() is None, "b died under injected EIO (see b.log)")
    t0 = time.monotonic()
    wait_agree(net, [a, b, net.hub], "b catching up once its flushes succeed, no restart")
    check({"recv-%d" % i for i in range(20)} <= set(event_uids(net, b)), "b lacks a's events")
    check_no_gap(net, b)
    print("fsync_eio: b refused a's entries while its flushes failed, caught up %.1f s "
          "after the tracer left" % (time.monotonic() - t0))


# ------------------------------------------------------------ link

class Proxy:
    """A TCP proxy on loopback, in its own thread (asyncio): forwards in
    chunks with a random delay each, and on command drops every connection,
    cuts connections after a random number of bytes (mid-frame), or
    partitions (accepts nothing, closes what is open)."""

    def __init__(self, target_port, rng):
        self.port = free_port()
        self.target = target_port
        self.rng = rng
        self.delay_max = 0.0
        self.cut_p = 0.0                 # chance a chunk is cut short and the link closed
        self.partitioned = False
        self.conns = set()
        self.cuts = self.drops = self.refused = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer, pair):
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                if self.delay_max:
                    await asyncio.sleep(self.rng.uniform(0, self.delay_max))
                if self.cut_p and self.rng.random() < self.cut_p and len(data) > 1:
                    writer.write(data[:self.rng.randrange(1, len(data))])
                    await writer.drain()
                    self.cuts += 1
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            for w in pair:
                w.close()

    async def _client(self, reader, writer):
        if self.partitioned:
            self.refused += 1
            writer.close()
            return
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        pair = (writer, uw)
        self.conns.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, uw, pair), self._pipe(ur, writer, pair))
        finally:
            self.conns.discard(pair)

    def _drop_all(self):
        for pair in list(self.conns):
            for w in pair:
                w.transport.abort()
            self.drops += 1

    def drop_all(self):
        self.loop.call_soon_threadsafe(self._drop_all)

    def partition(self, on):
        def set_():
            self.partitioned = on
            if on:
                self._drop_all()
        self.loop.call_soon_threadsafe(set_)

    def close(self):
        def stop():
            self._drop_all()
            self.server.close()
            self.loop.stop()
        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)


def netem_note():
    """Why the link is a proxy in this test: can tc netem run here (in a
    network namespace of its own, made and dropped by unshare)?"""
    if not shutil.which("unshare") or not shutil.which("tc"):
        return "unshare or tc (iproute2) absent"
    out = subprocess.run(["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root",
                          "netem", "delay", "1ms"], capture_output=True, text=True)
    if out.returncode != 0:
        return "tc netem refused here: %s" % (out.stderr.strip() or out.returncode)
    return "tc netem would run here; this test uses the proxy all the same"


def case_link(net):
    print("link: an in-test TCP proxy between a and its broker (%s)" % netem_note())
    seed = net.args.seed if net.args.seed is not None else random.randrange(1 << 31)
    part_s = 180 if net.args.long else 20
    chaos_s = 60 if net.args.long else 10
    print("link: seed %d, chaos %d s, partition %d s" % (seed, chaos_s, part_s))
    rng = random.Random(seed)
    net.hub.start()
    proxy = Proxy(net.hub.port, random.Random(seed + 1))
    net.proxies.append(proxy)
    a, b = two_sites(net, a_connect="tcp://127.0.0.1:%d" % proxy.port)
    wa, wb = Writer(net, a, "a", pause=0.02), Writer(net, b, "b", pause=0.02)
    wa.start()
    wb.start()
    # a slow, cutting link: delayed bytes, cuts mid-frame, whole drops
    proxy.delay_max, proxy.cut_p = 0.05, 0.02
    t_end = time.monotonic() + chaos_s
    while time.monotonic() < t_end:
        time.sleep(rng.uniform(0.5, 3))
        proxy.drop_all()
    proxy.delay_max, proxy.cut_p = 0.0, 0.0
    # a partition: both sides keep writing
    proxy.partition(True)
    n_a, n_b = len(wa.acked), len(wb.acked)
    time.sleep(part_s)
    during = (len(wa.acked) - n_a, len(wb.acked) - n_b)
    check(during[0] > 0 and during[1] > 0, "writes stopped during the partition: %r" % (during,))
    row = [p for p in net.cli_ok(a, "status", json_out=True)["peers"] if p["role"] == "broker"][0]
    check(not row["connected"], "a still connected to its broker through a partition: %r" % row)
    wa.stop()
    wb.stop()
    # the partition held: the hub lacks what a wrote meanwhile
    ha, hh = full_heads(net, a), full_heads(net, net.hub)
    check(hh.get(a.key, (0,))[0] < ha[a.key][0], "the hub holds a's head %r through the "
          "partition (a: %r)" % (hh.get(a.key), ha[a.key]))
    check(not wa.failed and not wb.failed, "local writes refused during the link faults: %s"
          % (wa.errors + wb.errors)[:3])
    t0 = time.monotonic()
    proxy.partition(False)
    wait_agree(net, [a, b, net.hub], "a, b and the hub converging after the partition")
    took = time.monotonic() - t0
    want = set(wa.acked) | set(wb.acked)
    for s in (a, b):
        check(want <= set(event_uids(net, s)), "%s lacks acknowledged events" % s.name)
        check_no_gap(net, s)
    print("link: %d cuts mid-frame, %d connections dropped, %d refused while partitioned; "
          "%d + %d writes (%d + %d during the partition); converged %.1f s after healing"
          % (proxy.cuts, proxy.drops, proxy.refused, len(wa.acked), len(wb.acked),
             during[0], during[1], took))


CASES = {
    "crash": case_crash,
    "disk_full": case_disk_full,
    "fsync_eio": case_fsync_eio,
    "link": case_link,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--cli", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--broker", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--long", action="store_true", help="50 crashes, minutes of partition")
    ap.add_argument("--seed", type=int, help="replay the random moments of a run")
    ap.add_argument("--no-mount", action="store_true",
                    help="disk_full: use the 1 MiB store limit, as where mounting is refused")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not sys.platform.startswith("linux"):
        print("skip: needs Linux")
        return 77
    net = Net(args)
    net.mounts, net.proxies = [], []
    t0 = time.monotonic()

    def body(net):
        CASES[args.case](net)
        return "%.1f s" % (time.monotonic() - t0)

    def release():
        for p in net.proxies:
            p.close()
        for m in net.mounts:
            if m:
                subprocess.run(["umount", m], capture_output=True)
    return el_it.run_net(net, "faults " + args.case, body, args.keep, release)


if __name__ == "__main__":
    sys.exit(main())
