# berth-os: read a NoCloud seed (meta-data and #cloud-config user-data).
# A small reader for the subset berth writes (package seed) and that simple
# hand-written seeds use:
#   meta-data:  instance-id, local-hostname
#   user-data:  hostname, ssh_authorized_keys (a list), mounts (a list of
#               [source, target, type, options] flow lists)

# seed_list FILE KEY: the items of the top-level YAML list KEY, one a line,
# quotes removed. Flow lists ([a, "b,c"]) become space-separated fields.
seed_list() {
  awk -v key="$2" '
    /^[^ \t#-][^:]*:/ { inlist = (substr($0, 1, length(key) + 1) == key ":"); next }
    !inlist || !/^[ \t]*- / { next }
    {
      item = $0; sub(/^[ \t]*- +/, "", item); sub(/[ \t]+$/, "", item)
      if (item ~ /^\[/) { print flow(item); next }
      print unquote(item)
    }
    function unquote(s) {
      if (s ~ /^".*"$/ || s ~ /^\x27.*\x27$/) s = substr(s, 2, length(s) - 2)
      return s
    }
    # flow turns [ "a", b, "c,d" ] into "a b c,d" (commas inside quotes kept).
    function flow(s,   out, f, q, i, ch, n) {
      sub(/^\[[ \t]*/, "", s); sub(/[ \t]*\]$/, "", s)
      out = ""; f = ""; q = ""; n = 0
      for (i = 1; i <= length(s); i++) {
        ch = substr(s, i, 1)
        if (q != "") { if (ch == q) q = ""; else f = f ch; continue }
        if (ch == "\"" || ch == "\x27") { q = ch; continue }
        if (ch == ",") { out = out (n++ ? " " : "") f; f = ""; continue }
        if (ch != " " && ch != "\t") f = f ch
      }
      return out (n ? " " : "") f
    }
  ' "$1" 2>/dev/null
}

# seed_value FILE KEY: the scalar value of top-level KEY, quotes removed.
seed_value() {
  awk -v key="$2" '
    substr($0, 1, length(key) + 1) == key ":" {
      v = substr($0, length(key) + 2); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v)
      if (v ~ /^".*"$/ || v ~ /^\x27.*\x27$/) v = substr(v, 2, length(v) - 2)
      print v; exit
    }
  ' "$1" 2>/dev/null
}

# seed_load DIR: set SEED_INSTANCE_ID, SEED_HOSTNAME, SEED_KEYS (one a line)
# and SEED_MOUNTS ("source target type options", one a line) from the seed
# files in DIR.
seed_load() {
  local md="$1/meta-data" ud="$1/user-data" h
  SEED_INSTANCE_ID=$(seed_value "$md" instance-id)
  h=$(seed_value "$ud" hostname)
  [ -n "$h" ] || h=$(seed_value "$md" local-hostname)
  case "$h" in
    *[!A-Za-z0-9.-]*) say "seed: ignoring the invalid host name \"$h\"" ; h= ;;
  esac
  SEED_HOSTNAME=$h
  if [ -f "$ud" ] && [ "$(head -n 1 "$ud" | tr -d '\r')" != "#cloud-config" ]; then
    say "seed: user-data is not #cloud-config; ignoring it"
  else
    SEED_KEYS=$(seed_list "$ud" ssh_authorized_keys | grep -v '^$')
    SEED_MOUNTS=$(seed_list "$ud" mounts | grep -v '^$')
  fi
  say "seed: instance ${SEED_INSTANCE_ID:-?}, host name ${SEED_HOSTNAME:-unset}, $(printf '%s' "$SEED_KEYS" | grep -c .) SSH key(s), $(printf '%s' "$SEED_MOUNTS" | grep -c .) mount(s)"
}
