#!/usr/bin/env bash
# Sent ahead of the steps that call read_file_payload (remote-scripts.ts): the reader of the
# payload format renderFilePayload writes, one "<name> <base64 content>" line per file.

# Reads the payload on stdin into DIR: only the NAMEs given are accepted, and each must arrive
# with some content.
# Usage: read_file_payload DIR NAME...
read_file_payload() {
  local dir=$1 name content wanted known
  shift
  while read -r name content; do
    known=no
    for wanted in "$@"; do
      if [ "$name" = "$wanted" ]; then
        known=yes
      fi
    done
    if [ "$known" = no ]; then
      echo "unexpected file name in the setup payload: ${name}" >&2
      return 1
    fi
    printf '%s' "$content" | base64 -d >"${dir}/${name}"
  done
  for name in "$@"; do
    if [ ! -s "${dir}/${name}" ]; then
      echo "the setup payload is missing ${name}" >&2
      return 1
    fi
  done
}
