#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# DOC: git on a generated repository (malloc shim `real` test).
# Runs in an empty directory; fixed identities and dates, so every hash and
# every line of output is the same from run to run.
set -euo pipefail
export GIT_AUTHOR_NAME=kmem GIT_AUTHOR_EMAIL=kmem@example.org
export GIT_COMMITTER_NAME=kmem GIT_COMMITTER_EMAIL=kmem@example.org
export GIT_CONFIG_NOSYSTEM=1 HOME=$PWD LC_ALL=C TZ=UTC
git init -q -b main repo
cd repo
mkdir d0 d1 d2 d3 d4
for c in $(seq 1 30); do
  export GIT_AUTHOR_DATE="2024-01-01T00:00:$(printf %02d $((c % 60)))Z" GIT_COMMITTER_DATE="2024-01-01T00:00:$(printf %02d $((c % 60)))Z"
  # One awk per commit writes the 20 files (d0..d4/fileN.txt).
  awk -v c="$c" 'BEGIN { for (f = 1; f <= 20; f++) { d = "d" (f % 5)
      out = d "/file" f ".txt"; for (i = c * f; i <= c * f + 200; i++) print "line", c, f, i > out
      close(out) } }'
  git add -A
  git commit -q -m "commit $c"
  [ $((c % 10)) -eq 0 ] && git tag "v$c"
done
# No pipes into head: with pipefail, a closed pipe would fail the script.
git log --shortstat --format='%H %an %ad %s' >log.txt
cat log.txt
git log --oneline --graph --decorate >graph.txt
cat graph.txt
git diff --stat v10 v20 >diff.txt
tail -n 3 diff.txt
git gc -q
git fsck --full 2>&1
git count-objects -v >objects.txt
grep -v size objects.txt
git show v30:d1/file1.txt >file1.txt
tail -n 3 file1.txt
git rev-list --all --objects >objects-all.txt
wc -l <objects-all.txt
