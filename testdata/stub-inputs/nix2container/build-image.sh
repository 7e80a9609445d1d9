# build-image.sh LAYER_TAR OUT: writes the nix2container image file (format
# version 1) for the stub's buildImage. Its environment: $configFile (the
# image config as JSON), $roots (the copyToRoot store paths, whose content
# goes to /), $maxLayers, $arch, $created, $record (the arguments, kept
# under an extra key), and one closure-N file per graph root from
# exportReferencesGraph. As upstream: the image holds the closure
# of the config and the roots, but not the config file; one store path per
# layer, the last layer taking the rest once maxLayers is reached.
set -eu
export LC_ALL=C
layerTar=$1
out=$2

# Store paths of an exportReferencesGraph file: each path is followed by
# its deriver, the number of references, and the references.
closure() {
  while IFS= read -r path; do
    IFS= read -r deriver
    IFS= read -r n
    while [ "$n" -gt 0 ]; do
      IFS= read -r ref
      n=$((n - 1))
    done
    printf '%s\n' "$path"
  done < "$1"
}
isRoot() {
  for r in $roots; do
    if [ "$r" = "$1" ]; then return 0; fi
  done
  return 1
}

# Shared store paths first, sorted; the roots last, as given.
for f in closure-*; do closure "$f"; done | sort -u > all
: > ordered
while IFS= read -r p; do
  if [ "$p" != "$configFile" ] && ! isRoot "$p"; then printf '%s\n' "$p" >> ordered; fi
done < all
for r in $roots; do printf '%s\n' "$r" >> ordered; done

# layer PATH...: appends one layer's JSON to layers.json.
layer() {
  args=
  paths=
  for p; do
    if isRoot "$p"; then
      args="$args --root $p"
      paths="$paths${paths:+,}{\"path\":\"$p\",\"options\":{\"rewrite\":{\"regex\":\"^$p\",\"repl\":\"\"}}}"
    else
      args="$args $p"
      paths="$paths${paths:+,}{\"path\":\"$p\"}"
    fi
  done
  # A relative TMPDIR: the build directory's parents may be closed to the
  # build user, who was put in it.
  TMPDIR=. sh "$layerTar" $args > layer.tar
  digest=sha256:$(sha256sum < layer.tar | cut -d ' ' -f 1)
  size=$(stat -c %s layer.tar)
  rm layer.tar
  [ -s layers.json ] && printf ',' >> layers.json
  printf '{"digest":"%s","size":%s,"diff_ids":"%s","paths":[%s],"mediatype":"application/vnd.oci.image.layer.v1.tar","History":{"created_by":"nix2container"}}' \
    "$digest" "$size" "$digest" "$paths" >> layers.json
}

: > layers.json
n=0
rest=
while IFS= read -r p; do
  n=$((n + 1))
  if [ "$n" -lt "$maxLayers" ]; then layer "$p"; else rest="$rest $p"; fi
done < ordered
if [ -n "$rest" ]; then layer $rest; fi

{
  printf '{"version":1,"image-config":'
  cat "$configFile"
  printf ',"layers":['
  cat layers.json
  printf '],"arch":"%s","created":"%s",' "$arch" "$created"
  # Not upstream's: the arguments buildImage was given, for tests.
  printf '"stub-record":%s}\n' "$record"
} > "$out"
