# Shared by the stub inputs (each stub flake carries its own copy, since a
# flake cannot read files outside its directory).
#
# fake system name record: a derivation whose output is a JSON file of
# `record`. Every derivation inside `record` becomes a build dependency, so
# building one fake builds the whole graph, offline, with /bin/sh and shell
# built-ins only. `stubRecord` holds the same data without store paths, for
# golden files.
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

  fake = system: name: record:
    let
      described = describe record;
      drv = derivation {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "printf '%s\\n' \"$record\" > \"$out\"" ];
        record = builtins.toJSON described;
        deps = map (d: d.outPath) (deps record);
      };
    in
    drv // { stubRecord = described; };
in
{ inherit fake describe isDrv; }
