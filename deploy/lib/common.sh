# Shared by deploy/backup.sh and deploy/restore.sh (sourced, not run).
# Reads the portal's settings as the instances see them: the environment, or an EnvironmentFile (--env FILE).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NODE=${NODE:-node}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
usage_error() { echo "$(basename "$0"): $*" >&2; echo >&2; usage >&2; exit 2; }

# load_env_file FILE: KEY=VALUE lines as systemd reads them (comments, blank lines, optional "…" or '…'
# quotes). Nothing in the file is executed. A variable already set in the environment is replaced.
load_env_file() {
  local file=$1 line key value
  [ -r "$file" ] || die "cannot read $file"
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#"${line%%[![:space:]]*}"}
    case "$line" in '' | '#'* | ';'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    key=${key%"${key##*[![:space:]]}"}
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$file: not a KEY=VALUE line: $key"
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
    export "$key=$value"
  done <"$file"
}

# The instances resolve relative paths from the install directory (the unit's WorkingDirectory).
abs_path() {
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac
}

# Sets DB_KIND (sqlite|postgres), SQLITE_PATH, PG_URI (the URL, passed to libpq as it is) and PG_SCHEMA (from
# options=-c search_path=NAME, empty for the default schema), SECRET_FILE (DATA_DIR/session-secret).
read_settings() {
  local url=${DATABASE_URL:-sqlite:${DATA_DIR:-data}/portal.db} opts  # the portal's default follows DATA_DIR too
  SECRET_FILE="$(abs_path "${DATA_DIR:-data}")/session-secret"
  case "$url" in
    sqlite:*)
      DB_KIND=sqlite
      SQLITE_PATH=$(abs_path "${url#sqlite:}")
      ;;
    postgres://* | postgresql://*)
      DB_KIND=postgres
      PG_URI=$url
      opts=$(printf '%s' "$url" | sed -n 's/.*[?&]options=\([^&]*\).*/\1/p')
      opts=$(printf '%b' "${opts//%/\\x}")
      PG_SCHEMA=$(printf '%s' "$opts" | sed -n 's/.*search_path[[:space:]]*=[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p')
      ;;
    *) die "DATABASE_URL must be sqlite:PATH or postgres://… (set it, or pass --env FILE)" ;;
  esac
}

# sqlite_tool: the sqlite3 command line when installed, else node with better-sqlite3 (the app's driver).
# IRYO_SQLITE_TOOL=node forces the second one.
sqlite_tool() {
  if [ "${IRYO_SQLITE_TOOL:-}" != node ] && command -v sqlite3 >/dev/null; then echo sqlite3; else echo node; fi
}

# sqlite_integrity FILE: prints "ok" for a sound database file.
sqlite_integrity() {
  if [ "$(sqlite_tool)" = sqlite3 ]; then
    sqlite3 -readonly "$1" 'pragma integrity_check' 2>&1 | head -n 5
  else
    (cd "$ROOT" && DBFILE="$1" "$NODE" -e '
      const Database = require("better-sqlite3");
      const db = new Database(process.env.DBFILE, { readonly: true, fileMustExist: true });
      console.log(db.pragma("integrity_check", { simple: true })); db.close();') 2>&1 | head -n 5
  fi
}

# sqlite_standalone FILE: turns a fresh backup copy into one self-contained file (rollback journal instead of
# WAL, so no -wal/-shm appear next to it); the instances switch it back to WAL when they open it.
sqlite_standalone() {
  if [ "$(sqlite_tool)" = sqlite3 ]; then
    sqlite3 "$1" 'pragma journal_mode=delete' >/dev/null
  else
    (cd "$ROOT" && DBFILE="$1" "$NODE" -e '
      const Database = require("better-sqlite3");
      const db = new Database(process.env.DBFILE, { fileMustExist: true });
      db.pragma("journal_mode = DELETE"); db.close();')
  fi
}
