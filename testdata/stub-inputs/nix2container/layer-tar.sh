# layer-tar.sh [--root PATH | PATH]... > layer.tar
#
# Writes the tar nix2container makes for one layer of store paths, byte for
# byte: every path walked without following links; a --root path has its
# own prefix removed, so its content lands at /; parent directories not
# walked themselves get a 0755 entry; depth first, names sorted at each
# level; absolute names, root:root, mtime 1, symlinks 0777; plain ustar
# headers and two zero blocks at the end. The layer digest in the image
# file is the sha256 of these bytes, and nix2gpu checks the tar it streams
# from the store against it. Only POSIX sh, coreutils and awk: a name that ustar
# cannot hold (Go's archive/tar would write a PAX header), a link target
# over 100 bytes, and file types other than directory, regular file and
# symlink are refused rather than written differently.
set -eu
export LC_ALL=C
tab=$(printf '\t')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/layer-tar.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

zeros() { if [ "$1" -gt 0 ]; then head -c "$1" /dev/zero; fi; }
# str TEXT WIDTH: the text, padded with NUL bytes.
str() {
  if [ ${#1} -gt "$2" ]; then
    echo "layer-tar: \"$1\" is longer than $2 bytes" >&2
    exit 1
  fi
  printf '%s' "$1"
  zeros $(($2 - ${#1}))
}
# num VALUE WIDTH: zero-padded octal and a NUL.
num() { printf "%0$(($2 - 1))o\\000" "$1"; }
# header NAME MODE SIZE TYPE LINK
header() {
  # A name over 100 bytes is split at a slash into ustar's prefix field,
  # the slash as close to byte 156 as the prefix's 155 bytes allow.
  name=$1
  prefix=
  if [ ${#name} -gt 100 ]; then
    prefix=$(printf '%s' "$name" | cut -c 1-156)
    prefix=${prefix%/*}
    name=${name#"$prefix/"}
    if [ -z "$prefix" ] || [ ${#prefix} -gt 155 ] || [ -z "$name" ] || [ ${#name} -gt 100 ]; then
      echo "layer-tar: \"$1\" does not fit a ustar header" >&2
      exit 1
    fi
  fi
  {
    str "$name" 100; num "$2" 8; num 0 8; num 0 8; num "$3" 12; num 1 12
    printf '        %s' "$4"; str "$5" 100; printf 'ustar\00000'
    str root 32; str root 32; num 0 8; num 0 8; str "$prefix" 155; zeros 12
  } > "$tmp/h"
  sum=$(od -An -v -tu1 "$tmp/h" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
  head -c 148 "$tmp/h"
  printf '%06o\000 ' "$sum"
  tail -c +157 "$tmp/h"
}

# Destination and source of every entry, one per line.
root=
for arg; do
  case $arg in
  --root) root=1; continue ;;
  esac
  find "$arg" | while IFS= read -r src; do
    dst=$src
    if [ -n "$root" ]; then dst=${src#"$arg"}; fi
    if [ -n "$dst" ]; then printf '%s\t%s\n' "$dst" "$src"; fi
  done
  root=
done > "$tmp/entries"

# Add the missing parents; sort on the name with / as the lowest byte,
# which is the depth-first order of sorted levels.
awk -F "$tab" '
  { src[$1] = $2 }
  END {
    for (d in src) {
      a = d
      while (a != "") {
        sub(/\/[^\/]*$/, "", a)
        p = a == "" ? "/" : a
        if (!(p in src)) parent[p] = 1
      }
    }
    for (p in parent) if (!(p in src)) src[p] = ""
    for (d in src) {
      k = d
      gsub(/\//, "\001", k)
      print k "\t" d "\t" src[d]
    }
  }' "$tmp/entries" | sort -t "$tab" -k1,1 | cut -f2- > "$tmp/sorted"

while IFS="$tab" read -r dst src; do
  if [ -z "$src" ]; then
    header "$dst" 493 0 5 ""
    continue
  fi
  set -- $(stat -c '%f %s' "$src")
  mode=$((0x$1))
  case $((mode & 0170000)) in
  16384) header "$dst" $((mode & 07777)) 0 5 "" ;;
  32768)
    header "$dst" $((mode & 07777)) "$2" 0 ""
    cat "$src"
    zeros $(((512 - $2 % 512) % 512)) ;;
  40960) header "$dst" 511 0 2 "$(readlink "$src")" ;;
  *)
    echo "layer-tar: $src: not a directory, regular file or symlink" >&2
    exit 1 ;;
  esac
done < "$tmp/sorted"
zeros 1024
