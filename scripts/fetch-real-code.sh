#!/usr/bin/env bash
# Downloads the real code the closing notes and `--corpus` runs measure, and the separate code the learned
# tables (the arena's model tables) are trained on, from the package registries (PyPI, crates.io, npm), at
# pinned versions, so that every figure can be reproduced:
#
#   scripts/fetch-real-code.sh DIR
#
# DIR/measured/{python,rust,typescript}: code that compare runs measure (never used for training). Its
#   TypeScript is code that tree-sitter-typescript 0.23 parses (4 of 464 files with parse errors).
# DIR/error-recovery/typescript: effect, whose variance annotations (`<in out A>`) that grammar does not
#   parse (185 of 360 files with errors): error-recovery trees, measured only as a run named for them.
# DIR/training/{python,rust,typescript}: code that tables are learned from (never measured).
# DIR/packages.txt: every package with its registry, version, repositories and source files.
#
# The sets are checked before anything is written to DIR: `cargo xtask check-corpora` refuses a training
# package and a measured one that share a source file's content, a package, a repository (from each
# package's own metadata) or a fork listed in scripts/forks.txt, and the script then stops with DIR as it
# was. Only then are the sets pruned to the files the corpus loader measures (.py, .rs, .ts, .tsx;
# declaration files .d.ts are generated, not written, and removed) and put in DIR, replacing the sets there.
set -euo pipefail
out=${1:?usage: $0 DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
mkdir -p "$stage"

python_packages() { # set name, then packages
  local set=$1; shift
  local dir="$stage/$set/python"
  mkdir -p "$dir" "$work/py-$set"
  for spec in "$@"; do
    pip download --quiet --no-deps --no-binary :all: --dest "$work/py-$set" "$spec"
  done
  for archive in "$work/py-$set"/*; do
    tar -xzf "$archive" -C "$dir"
  done
}

npm_packages() {
  local set=$1; shift
  local dir="$stage/$set/typescript"
  mkdir -p "$dir" "$work/npm-$set"
  for spec in "$@"; do
    (cd "$work/npm-$set" && npm pack --silent "$spec" >/dev/null)
  done
  for archive in "$work/npm-$set"/*.tgz; do
    name=$(basename "$archive" .tgz)
    mkdir -p "$dir/$name"
    tar -xzf "$archive" -C "$dir/$name"
  done
}

cargo_crates() {
  local set=$1; shift
  local dir="$stage/$set/rust"
  local project="$work/cargo-$set"
  mkdir -p "$dir" "$project/src"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n' >"$project/Cargo.toml"
  for spec in "$@"; do
    name=${spec%@*}; version=${spec#*@}
    printf '%s = { version = "=%s", default-features = false }\n' "$name" "$version" >>"$project/Cargo.toml"
  done
  touch "$project/src/lib.rs"
  (cd "$project" && CARGO_TARGET_DIR="$work/target" cargo fetch --quiet)
  registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -n 1)
  for spec in "$@"; do
    name=${spec%@*}; version=${spec#*@}
    cp -r "$registry/$name-$version" "$dir/"
  done
}

python_packages measured flask==3.0.3 requests==2.32.3 jinja2==3.1.4 click==8.1.7 attrs==24.2.0 werkzeug==3.0.4 networkx==3.3
cargo_crates measured hashbrown@0.15.2 indicatif@0.17.8 plotters@0.3.7 regex-automata@0.4.9 rowan@0.16.1 serde_core@1.0.228 tree-sitter@0.25.10
npm_packages measured zod@3.25.76 ajv@8.17.1 @tanstack/query-core@5.59.0 @tanstack/table-core@8.20.5 \
  prosemirror-model@1.23.0 prosemirror-state@1.4.3 prosemirror-transform@1.10.2 prosemirror-view@1.34.3
npm_packages error-recovery effect@3.10.0

python_packages training django==5.1.1 rich==13.8.1 pygments==2.18.0
cargo_crates training syn@2.0.87 tokio@1.41.1 clap_builder@4.5.20 rayon-core@1.12.1 nom@7.1.3 petgraph@0.6.5
npm_packages training rxjs@7.8.1 @reduxjs/toolkit@2.3.0 @trpc/server@10.45.2 mobx@6.13.5 immer@10.1.1 redux@5.0.1

# Refuse overlapping sets before touching DIR (the packages' metadata is still in place).
(cd "$repo" && cargo run --quiet --release -p xtask -- check-corpora --training "$stage/training" \
  --measured "$stage/measured" --measured "$stage/error-recovery") >"$stage/packages.txt"

# Keep only the files the corpus loader measures.
find "$stage" -mindepth 2 -type f \( -name '*.d.ts' -o ! \( -name '*.py' -o -name '*.rs' -o -name '*.ts' -o -name '*.tsx' \) \) -delete
find "$stage" -type d -empty -delete
for set in measured error-recovery training; do
  rm -rf "${out:?}/$set"
  mv "$stage/$set" "$out/$set"
done
mv "$stage/packages.txt" "$out/packages.txt"
for set in measured error-recovery training; do
  for language in python rust typescript; do
    [ -d "$out/$set/$language" ] || continue
    files=$(find "$out/$set/$language" -type f | wc -l)
    bytes=$(find "$out/$set/$language" -type f -print0 | du -cb --files0-from=- | tail -n 1 | cut -f1)
    echo "$set/$language: $files files, $bytes bytes"
  done
done
