#!/usr/bin/env bash
# tools/check_generate_cache.sh SEQBOAT WORKDIR: `seqboat generate` prints the
# same text with incremental decoding and with --no-cache (the full forward
# over the whole history per token), greedy (--temperature 0) and sampled
# (--temperature 0.8, one seed). A small LM is trained first (200 steps, a few
# seconds), so that its text varies; the sampled text must hold at least 10
# distinct bytes, or the comparison would prove little. CTest runs it as
# generate_cache_matches_full_forward.
set -eu
seqboat=$1
work=$2
rm -rf "$work"
"$seqboat" train --task lm --out "$work" --no-progress --set steps=200 --set warmup_steps=0 --set lr=0.01 \
  --set model.d_model=32 --set model.d_qk=16 --set batch_size=8 --set eval_every=1000 >/dev/null
ckpt=$work/checkpoint.safetensors
status=0
for mode in "--temperature 0" "--temperature 0.8 --seed 5"; do
  # shellcheck disable=SC2086  # $mode holds several arguments
  "$seqboat" generate --checkpoint "$ckpt" --prompt "int main(" --tokens 400 $mode >"$work/cached.txt"
  # shellcheck disable=SC2086
  "$seqboat" generate --checkpoint "$ckpt" --prompt "int main(" --tokens 400 $mode --no-cache >"$work/full.txt"
  if cmp -s "$work/cached.txt" "$work/full.txt"; then
    echo "generate $mode: cached and --no-cache texts are the same ($(wc -c <"$work/cached.txt") bytes)"
  else
    echo "generate $mode: cached and --no-cache texts DIFFER:"
    diff <(fold -w 60 "$work/cached.txt") <(fold -w 60 "$work/full.txt") | head -20
    status=1
  fi
done
distinct=$(od -An -v -tu1 "$work/cached.txt" | tr -s ' ' '\n' | sed '/^$/d' | sort -u | wc -l)
echo "sampled text: $distinct distinct bytes"
if [ "$distinct" -lt 10 ]; then
  echo "the sampled text is too uniform to compare"
  status=1
fi
[ $status -eq 0 ] && echo "generate cache: ok"
exit $status
