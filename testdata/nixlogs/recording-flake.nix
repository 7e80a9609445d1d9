{
  outputs = { self }: let
    system = "x86_64-linux";
    mk = name: script: derivation { inherit name system; builder = "/bin/sh"; args = [ "-c" script ]; };
    blob = mk "python3-3.12.8" ''
      i=0; while [ $i -lt 3000 ]; do echo "payload line $i 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"; i=$((i+1)); done > $out
    '';
    blob2 = mk "cuda_cudart-12.8.90" ''
      i=0; while [ $i -lt 2000 ]; do echo "cudart line $i 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"; i=$((i+1)); done > $out
    '';
    startup = mk "nix2gpu-startup" ''
      echo "unpacking sources"; echo "patching script interpreter paths"; echo "#!/bin/sh" > $out; echo "exec true" >> $out; echo "checking for references"
    '';
    layer = n: mk "app-layer-${toString n}" ''
      echo "building layer ${toString n} from ${blob} ${blob2}"; echo "adding ${startup}"; echo "layer ${toString n} done"; echo ok > $out
    '';
    image = mk "app-image.json" ''
      echo "assembling image from ${layer 1} ${layer 2}"; echo "writing image manifest"; echo '{"version":1,"layers":[]}' > $out
    '';
    broken = mk "torch-2.5.1" ''
      echo "Sourcing python-remove-tests-dir-hook"; echo "unpacking sources"
      i=1; while [ $i -le 40 ]; do echo "compiling aten/src/ATen/native/kernel_$i.cpp"; i=$((i+1)); done
      echo "error: kernel_41.cpp:12:3: fatal error: cuda_runtime.h: No such file or directory" >&2
      echo "compilation terminated." >&2
      exit 2
    '';
    bimage = mk "broken-image.json" ''echo "using ${broken} ${startup}" > $out'';
  in {
    packages.${system} = { app = image; broken = bimage; cache1 = blob; cache2 = blob2; };
  };
}
