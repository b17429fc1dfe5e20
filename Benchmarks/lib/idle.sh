# check_idle: warns when other processes keep the CPUs busy, since 2-thread figures are then meaningless.
check_idle() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep 1
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(( (u2+n2+s2+q2+sq2) - (u1+n1+s1+q1+sq1) ))
  local total=$(( busy + (i2+w2) - (i1+w1) ))
  local pct=$(( total > 0 ? 100 * busy / total : 0 ))
  if [ "$pct" -gt 15 ]; then
    echo "WARNING: machine is ${pct}% busy before the benchmark; multi-thread figures will be low" >&2
  else
    echo "machine idle (${pct}% busy) before the benchmark" >&2
  fi
}
