#!/usr/bin/env bash
# Builds the safetensors reader with libFuzzer + AddressSanitizer (outside SwiftPM) and fuzzes it.
#
#   Fuzz/run-safetensors-fuzz.sh [SECONDS]      # default 60; 0 = build and replay the seeds only
#
# The reader's sources (Sources/SafeTensors) are compiled unchanged against a small stand-in for the
# Tensors module (Fuzz/SafeTensorsFuzz/TensorsStub.swift), so the build needs no C kernels. The
# corpus grows in .build-fuzz/corpus; crashes, if any, are written to .build-fuzz/crash-* and the
# script exits non-zero.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
out="$root/.build-fuzz"
mkdir -p "$out/modules" "$out/corpus" "$out/seeds"
cd "$root"
# Let libFuzzer report crashes itself rather than Swift's interactive backtracer.
export SWIFT_BACKTRACE=enable=no

echo "fuzz: building (swiftc -sanitize=fuzzer,address)" >&2
swiftc -O -wmo -parse-as-library -module-name Tensors -emit-module -emit-module-path "$out/modules/Tensors.swiftmodule" \
    -c Fuzz/SafeTensorsFuzz/TensorsStub.swift -o "$out/Tensors.o"
swiftc -O -wmo -parse-as-library -module-name SafeTensors -sanitize=fuzzer,address -I "$out/modules" \
    -emit-module -emit-module-path "$out/modules/SafeTensors.swiftmodule" \
    -c Sources/SafeTensors/*.swift -o "$out/SafeTensors.o"
# (gold warns about every ASan helper symbol; keep the log for when the link fails.)
swiftc -O -parse-as-library -module-name SafeTensorsFuzz -sanitize=fuzzer,address -I "$out/modules" \
    Fuzz/SafeTensorsFuzz/Harness.swift "$out/Tensors.o" "$out/SafeTensors.o" -o "$out/safetensors-fuzz" \
    2> "$out/link.log" || { cat "$out/link.log" >&2; exit 1; }

# Seeds: small valid files covering the dtypes, metadata, scalars, empty tensors and escapes.
seed() {  # seed FILE JSON DATA(printf escapes)
    local json="$2" n=${#2}
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' $((n & 255)) $(((n >> 8) & 255)) $(((n >> 16) & 255)) $(((n >> 24) & 255)))" > "$out/seeds/$1"
    printf '%s' "$json" >> "$out/seeds/$1"
    printf "$3" >> "$out/seeds/$1"
}
seed empty '{}      ' ''
seed f32 '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' '\x00\x00\x80\x3f\x00\x00\x00\x40'
seed mixed '{"ids":{"dtype":"I64","shape":[1,1],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"b":{"dtype":"BF16","shape":[],"data_offsets":[12,14]},"m":{"dtype":"BOOL","shape":[1],"data_offsets":[14,15]},"q":{"dtype":"F4","shape":[2],"data_offsets":[15,16]}}' '\x01\x00\x00\x00\x00\x00\x00\x00\x00\x3c\x00\x7c\x80\x3f\x01\x12'
seed escapes '{"a\u00e9\n":{"dtype":"U8","shape":[0,3],"data_offsets":[0,0]},"__metadata__":{"k\"":"v\\/"}}' ''
seed unsorted '{"b":{"dtype":"I8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U16","shape":[],"data_offsets":[2,4]},"c":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}' '\x01\x02\x03\x04'

# Every seed must be accepted (and read back) before fuzzing starts.
SAFETENSORS_FUZZ_REQUIRE_ACCEPT=1 "$out/safetensors-fuzz" -runs=0 -artifact_prefix="$out/" "$out/seeds" > "$out/seeds.log" 2>&1 \
    || { cat "$out/seeds.log" >&2; echo "fuzz: a seed was rejected or crashed" >&2; exit 1; }
echo "fuzz: all $(ls "$out/seeds" | wc -l) seeds accepted" >&2
[[ "$seconds" == 0 ]] && exit 0
echo "fuzz: running for $seconds s" >&2
"$out/safetensors-fuzz" -dict=Fuzz/SafeTensorsFuzz/safetensors.dict -max_len=2048 -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "$out/seeds"
