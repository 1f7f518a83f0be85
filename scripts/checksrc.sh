#!/usr/bin/env bash
# House-style checks on the C sources (in the spirit of curl's checksrc):
# banned functions, assignments inside conditions, and clang-format.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\('
if grep -nE "$banned" "${files[@]}"; then
  echo "checksrc: banned function (use snprintf, memcpy with lengths, strtok_r, strtol)"
  status=1
fi
# if (x = f()) / while ((x = f())) : an '=' that is not part of ==, <=, >=, !=
assign_in_cond='\b(if|while)[[:space:]]*\(.*[^=!<>]=[^=].*\)[[:space:]]*\{?[[:space:]]*$'
if grep -nE "$assign_in_cond" "${files[@]}" | grep -vE '^\S+:[0-9]+:\s*(//|/?\*)'; then
  echo "checksrc: assignment inside a condition"
  status=1
fi
if command -v clang-format >/dev/null; then
  if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/azsf-clang-format.log; then
    head -20 /tmp/azsf-clang-format.log
    echo "checksrc: clang-format differs (run: clang-format -i \$(git ls-files '*.c' '*.h'))"
    status=1
  fi
fi
((status == 0)) && echo "checksrc: ok (${#files[@]} files)"
exit $status
