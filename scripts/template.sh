#!/usr/bin/env bash
# Writes the program, and only the program, into DIR for `pulumi new DIR --stack <name>`: the
# files git tracks under the program's own paths, as they are in this checkout. No stack files
# (Pulumi.<stack>.yaml hold a stack's encrypted secrets), no tests, no CI, no node_modules.
# Usage: npm run template -- DIR      (DIR must not exist, or be empty)
set -euo pipefail

dir=${1:?usage: npm run template -- DIR}
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
  echo "${dir} is not empty: give a new directory" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$(dirname "$0")/.."
# The program's paths are package.json's "files".
mapfile -t program < <(node -p 'require("./package.json").files.join("\n")')
git ls-files -z -- "${program[@]}" | xargs -0 cp --parents --target-directory="$dir"
echo "the template is in ${dir}: pulumi new ${dir} --stack <name>"
