#!/usr/bin/env bash
# The long fuzz run: the FuzzTests targets (the quick run of `swift test`) for SECONDS each with a
# fresh random seed, then the libFuzzer + AddressSanitizer builds. Crashes are kept as files.
#
#   Fuzz/run-fuzz.sh [SECONDS] [TARGET...]      # SECONDS default 300 per target
#
# TARGETs: feature-csv pair-csv scored-pairs-csv npy model-folder calibration index safetensors
# tokenizer-json vocab-txt json-body service-request image (the Swift Testing targets, run together in
# one process), and libfuzzer-npy libfuzzer-csv libfuzzer-json libfuzzer-safetensors. No TARGET:
# all of them.
#
# A Swift target that dies by a signal leaves the input it was checking in
# .build-fuzz/state/<target>.last (see LastInput in Tests/FuzzTests/FuzzEngine.swift). This script
# copies every such input into Tests/FuzzTests/Corpus/<target>/regressions/crash-<hash>, replays
# it alone, and keeps it only if it crashes again (targets run in parallel, so the others were
# merely in flight). Inputs that broke an invariant without a crash are in .build-fuzz/failures.
# libFuzzer crashes are in .build-fuzz/<target>/crash-*. Commit the regression files, fix the
# reader (or, if another branch owns the fix, move the file to known/), and rerun.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-300}"
shift || true
swift_targets=(feature-csv pair-csv scored-pairs-csv npy model-folder calibration index safetensors tokenizer-json vocab-txt json-body service-request image)
lib_targets=(libfuzzer-npy libfuzzer-csv libfuzzer-json libfuzzer-safetensors)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${swift_targets[@]}" "${lib_targets[@]}")

# The Swift Testing test that runs each target.
filter_for() {
    case "$1" in
    feature-csv) echo 'FuzzTests\.FeatureCSVFuzz/fuzz' ;;
    pair-csv) echo 'FuzzTests\.PairCSVFuzz/fuzz' ;;
    scored-pairs-csv) echo 'FuzzTests\.ScoredPairsCSVFuzz/fuzz' ;;
    npy) echo 'FuzzTests\.NPYFuzz/fuzz' ;;
    model-folder) echo 'FuzzTests\.ModelFolderFuzz/fuzz' ;;
    calibration) echo 'FuzzTests\.CalibrationFuzz/fuzz' ;;
    index) echo 'FuzzTests\.IndexFileFuzz/fuzz' ;;
    safetensors) echo 'FuzzTests\.SafeTensorsFuzz/fuzz' ;;
    tokenizer-json) echo 'FuzzTests\.TokenizerFuzz/tokenizerJSON' ;;
    vocab-txt) echo 'FuzzTests\.TokenizerFuzz/vocabTXT' ;;
    json-body) echo 'FuzzTests\.JSONRequestFuzz/parser' ;;
    service-request) echo 'FuzzTests\.JSONRequestFuzz/routes' ;;
    image) echo 'FuzzTests\.ImageFuzz/fuzz' ;;
    *) return 1 ;;
    esac
}

state="$root/.build-fuzz/state"
failures="$root/.build-fuzz/failures"
mkdir -p "$state" "$failures"
status=0
filters=()
swift_selected=()
for t in "${targets[@]}"; do
    if f="$(filter_for "$t")"; then filters+=(--filter "$f"); swift_selected+=("$t")
    elif [[ " ${lib_targets[*]} " != *" $t "* ]]; then echo "run-fuzz.sh: unknown target '$t'" >&2; exit 2; fi
done

# Saves the in-flight input of every target that did not finish (length field != all ones).
collect_crashes() {
    local found=()
    for last in "$state"/*.last; do
        [[ -f "$last" ]] || continue
        local name len
        name="$(basename "$last" .last)"
        len="$(od -An -t u8 -N 8 "$last" | tr -d ' ')"
        if [[ "$len" != 18446744073709551615 ]]; then
            local dir="Tests/FuzzTests/Corpus/$name/regressions"
            mkdir -p "$dir"
            local tmp
            tmp="$(mktemp)"
            tail -c +9 "$last" | head -c "$len" > "$tmp"
            local file
            file="$dir/crash-$(sha1sum "$tmp" | cut -c1-12)"
            mv "$tmp" "$file"
            found+=("$name:$file")
        fi
        rm -f "$last"
    done
    printf '%s\n' "${found[@]}"
}

if [[ ${#swift_selected[@]} -gt 0 ]]; then
    seed="${SIAMESE_FUZZ_SEED:-$(od -An -t u8 -N 8 /dev/urandom | tr -d ' ')}"
    echo "run-fuzz.sh: ${swift_selected[*]} for $seconds s each, seed $seed" >&2
    rm -f "$state"/*.last
    # Bounded: the build (first run only) plus the targets, which run in parallel.
    if SIAMESE_FUZZ_SECONDS="$seconds" SIAMESE_FUZZ_ITERATIONS=1000000000 SIAMESE_FUZZ_SEED="$seed" \
        SIAMESE_FUZZ_STATE_DIR="$state" SIAMESE_FUZZ_FAILURES="$failures" SWIFT_BACKTRACE=enable=yes \
        timeout $((seconds * ${#swift_selected[@]} + 3600)) swift test -c release "${filters[@]}" 2>&1 | tee "$root/.build-fuzz/swift-fuzz.log" \
        | grep -E '^fuzz |✘|recorded an issue|Test run|error:' ; [[ "${PIPESTATUS[0]}" == 0 ]]; then
        echo "run-fuzz.sh: Swift targets passed (seed $seed)" >&2
    else
        status=1
        echo "run-fuzz.sh: the Swift fuzz run failed (seed $seed); full log in .build-fuzz/swift-fuzz.log" >&2
        # Where it trapped: the crashed thread's first frames (a trap in a mutator, not a reader,
        # leaves no input that crashes alone; the seed above replays it).
        grep -A8 ' crashed:' "$root/.build-fuzz/swift-fuzz.log" >&2 || true
        mapfile -t candidates < <(collect_crashes)
        for c in "${candidates[@]}"; do
            [[ -n "$c" ]] || continue
            name="${c%%:*}" file="${c#*:}"
            # Replay the corpus of that target alone: does this input crash by itself?
            if SIAMESE_FUZZ_ITERATIONS=0 SIAMESE_FUZZ_STATE_DIR="$state" SWIFT_BACKTRACE=enable=no \
                timeout 900 swift test -c release --filter "$(filter_for "$name")" > "$root/.build-fuzz/replay.log" 2>&1; then
                rm -f "$file"
                echo "run-fuzz.sh: $name: the in-flight input does not crash alone (discarded)" >&2
            else
                echo "run-fuzz.sh: CRASH in $name: kept as $file (commit it; fix the reader or move it to known/)" >&2
            fi
            rm -f "$state"/*.last
        done
    fi
    if compgen -G "$failures/*" > /dev/null; then
        echo "run-fuzz.sh: inputs that broke an invariant: $(ls "$failures")" >&2
    fi
fi

for t in "${targets[@]}"; do
    case "$t" in
    libfuzzer-safetensors) Fuzz/run-safetensors-fuzz.sh "$seconds" || { status=1; echo "run-fuzz.sh: $t found a crash (.build-fuzz/crash-*)" >&2; } ;;
    libfuzzer-*) Fuzz/run-libfuzzer.sh "${t#libfuzzer-}" "$seconds" || { status=1; echo "run-fuzz.sh: $t found a crash (.build-fuzz/${t#libfuzzer-}/crash-*)" >&2; } ;;
    esac
done
exit "$status"
