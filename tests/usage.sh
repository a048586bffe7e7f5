#!/bin/sh
# usage.sh PROG MANPAGE: an unknown flag exits 100 and prints a usage
# that is the man page's SYNOPSIS, word for word; --help exits 0.
set -u
prog=$1 man=$2

norm() { tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//'; }

out=$("$prog" --no-such-flag 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq 100 ] || { echo "unknown flag: exit $rc, want 100"; exit 1; }

usage=$(printf '%s\n' "$out" | sed -n '/^usage: /,$p' | sed 's/^usage: //' | norm)
synopsis=$(MANWIDTH=500 mandoc -Tascii -O width=500 "$man" | col -b |
	awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' | norm)
if [ "$usage" != "$synopsis" ]; then
	echo "usage differs from SYNOPSIS"
	echo "usage:    $usage"
	echo "synopsis: $synopsis"
	exit 1
fi
"$prog" --help >/dev/null 2>&1 || { echo "--help: exit $?, want 0"; exit 1; }
exit 0
