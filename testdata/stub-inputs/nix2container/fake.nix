# Shared by the stub inputs (each stub flake carries its own copy, since a
# flake cannot read files outside its directory).
#
# fake system name record: a derivation whose output is a JSON file of
# `record`. Every derivation inside `record` becomes a build dependency, so
# building one fake builds the whole graph, offline, with /bin/sh and shell
# built-ins only. `stubRecord` holds the same data without store paths, for
# golden files.
#
# fakeBuild system name record attrs: the same derivation, its builder
# /bin/sh run with attrs (at least `args`), so its output can be anything;
# the record is in $record.
let
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";

  # Data for golden files: no store paths, no functions.
  describe = v:
    if isDrv v then (if v ? stubRecord then { "<drv>" = v.name; } // v.stubRecord else "<pkg:${v.name}>")
    else if builtins.isFunction v then "<function>"
    else if builtins.isPath v then "<path:${baseNameOf (toString v)}>"
    else if builtins.isList v then map describe v
    else if builtins.isAttrs v then builtins.mapAttrs (_: describe) v
    else v;

  # Every derivation reachable through attribute sets and lists.
  deps = v:
    if isDrv v then [ v ]
    else if builtins.isList v then builtins.concatMap deps v
    else if builtins.isAttrs v then builtins.concatMap (n: deps v.${n}) (builtins.attrNames v)
    else [ ];

  fakeBuild = system: name: record: attrs:
    let
      described = describe record;
      drv = derivation ({
        inherit name system;
        builder = "/bin/sh";
        record = builtins.toJSON described;
        deps = map (d: d.outPath) (deps record);
      } // attrs);
    in
    drv // { stubRecord = described; };

  fake = system: name: record: fakeBuild system name record {
    args = [ "-c" "printf '%s\\n' \"$record\" > \"$out\"" ];
  };
in
{ inherit fake fakeBuild describe isDrv; }
