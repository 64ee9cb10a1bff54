#!/bin/sh
# Assembles the runtime image's whole filesystem under $1 from the Node base image it runs in: the node
# binary and the shared libraries it links (found with ldd, so any architecture works), the dpkg records
# and copyright files of the packages those libraries come from (image scanners read
# /var/lib/dpkg/status.d, as in distroless images), os-release, a passwd entry for uid 1000, /tmp and a
# /data owned by uid 1000. No shell, npm, Node headers or package manager: the app needs none of them.
set -eu
root=$1
node=$(command -v node)

# Copies a path with its parent directories and, when it is a symlink, what it points to (every hop).
copy() {
  path=$1
  while :; do
    cp -P --parents "$path" "$root"
    # dpkg knows a file by the path its package ships it at, before or after the /usr merge.
    dpkg -S "$path" "$(readlink -f "$path")" 2>/dev/null | sed -n 's/^\([^:]*\):.*/\1/p' >> "$root/.packages" || true
    [ -L "$path" ] || break
    target=$(readlink "$path")
    case $target in
      /*) path=$target ;;
      *) path=$(realpath --no-symlinks "$(dirname "$path")/$target") ;;
    esac
  done
}

mkdir -p "$root/var/lib/dpkg/status.d" "$root/etc" "$root/data" "$root/tmp"
: > "$root/.packages"
copy "$node"
for lib in $(ldd "$node" | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do copy "$lib"; done
copy /etc/os-release

for package in $(sort -u "$root/.packages"); do
  dpkg-query --status "$package" > "$root/var/lib/dpkg/status.d/$package"
  copyright=/usr/share/doc/$package/copyright
  if [ -f "$copyright" ]; then cp --parents "$copyright" "$root"; fi
done
rm "$root/.packages"

printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/data:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/data"
chmod 0750 "$root/data"
