#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from this build holds the binaries,
# units, man pages, completion and examples in their Debian places, its
# dependencies come from dpkg-shlibdeps, lintian finds no error, and the
# binaries it installs run: extracted into a scratch root (installing on the
# machine that runs the tests would change it), a broker from the package
# starts and its CLI talks to it.
#   test_package.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?source dir}
build=${2:?build dir}
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) \
  || { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$tmp"/out/*.deb)
echo "package: $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's#^\./#/#' >"$tmp/files"
for f in /usr/bin/entrelab /usr/bin/entrelab-node /usr/bin/entrelab-broker \
         /usr/lib/systemd/system/entrelab-node.service /usr/lib/systemd/system/entrelab-broker.service \
         /usr/share/man/man1/entrelab.1.gz /usr/share/man/man8/entrelab-node.8.gz \
         /usr/share/man/man8/entrelab-broker.8.gz /usr/share/man/man5/entrelab.conf.5.gz \
         /usr/share/bash-completion/completions/entrelab /usr/share/doc/entrelab/copyright \
         /usr/share/doc/entrelab/examples/site-a.ini; do
  grep -qx "$f" "$tmp/files" || { echo "FAIL: the package lacks $f"; fail=1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libzmq5 libsodium23 liblmdb0 libmicrohttpd12 libsystemd0 adduser; do
  case "$depends" in *"$lib"*) ;; *) echo "FAIL: Depends lacks $lib"; fail=1 ;; esac
done
dpkg-deb -I "$deb" postinst | grep -q 'adduser --system' || { echo "FAIL: no user made"; fail=1; }
# lintian: no error (warnings are printed, not failed)
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1 || true
  cat "$tmp/lintian"
  if grep -q '^E:' "$tmp/lintian"; then echo "FAIL: lintian errors"; fail=1; fi
else
  echo "note: lintian is not installed: not run (deploy/install-deps.sh installs it)"
fi
# installed with dpkg into a scratch root (its own dpkg database and /etc;
# the maintainer scripts run without chroot and, seeing DPKG_ROOT, make the
# user there): installing on the machine that runs the tests would change it
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
: >"$root/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\n' >"$root/etc/gshadow"
host_users=$(md5sum /etc/passwd /etc/group)
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null; then
  # the libraries are this machine's, not the scratch root's: --force-depends
  dpkg --root="$root" --force-script-chrootless --force-depends -i "$deb" >"$tmp/dpkg.log" 2>&1 \
    || { cat "$tmp/dpkg.log"; echo "FAIL: dpkg -i into the scratch root"; fail=1; }
  dpkg --root="$root" -s entrelab | grep -q '^Status: install ok installed' \
    || { echo "FAIL: dpkg does not list entrelab installed"; fail=1; }
  grep -q '^entrelab:.*:/var/lib/entrelab:/usr/sbin/nologin$' "$root/etc/passwd" \
    || { echo "FAIL: postinst made no entrelab user"; cat "$root/etc/passwd"; fail=1; }
  [ "$(md5sum /etc/passwd /etc/group)" = "$host_users" ] \
    || { echo "FAIL: installing into the scratch root changed this machine's users"; fail=1; }
else
  echo "note: not root: the package is extracted (dpkg-deb -x), not installed with dpkg"
  dpkg-deb -x "$deb" "$root"
fi
# the packaged binaries run: a broker from the scratch root, its CLI
"$root/usr/bin/entrelab" --version | grep -q entrelab || { echo "FAIL: entrelab --version"; fail=1; }
state=$tmp/hub
"$root/usr/bin/entrelab" init "$state" --broker --listen tcp://127.0.0.1:0 >/dev/null
"$root/usr/bin/entrelab-broker" --config "$state/entrelab.conf" >"$tmp/broker.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 100); do
  if "$root/usr/bin/entrelab" --node "$state" status --json >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.1
done
[ "$ok" = 1 ] || { cat "$tmp/broker.log"; echo "FAIL: the packaged broker does not answer"; fail=1; }
[ "$fail" = 0 ] && echo "package: ok"
exit "$fail"
