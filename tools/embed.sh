#!/bin/sh
# embed.sh FILE NAME — print a C file that holds FILE's bytes as the array
# NAME[] and its length as NAME_len, so the daemon serves the file from its
# own binary (the Makefile runs it for www/index.html).
set -eu
[ $# -eq 2 ] || { echo "usage: embed.sh FILE NAME" >&2; exit 2; }
printf '/* Generated from %s by tools/embed.sh: do not edit. */\n' "$1"
printf '#include <stddef.h>\n\n'
printf 'extern const unsigned char %s[];\nextern const size_t %s_len;\n\n' \
    "$2" "$2"
printf 'const unsigned char %s[] = {\n' "$2"
od -An -v -tx1 "$1" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g; s/^/\t/'
printf '\t0x00\n};\n'
printf 'const size_t %s_len = sizeof %s - 1;\n' "$2" "$2"
