#!/usr/bin/env bash
# Online backup of the portal: the database (consistent, while the instances run) and the session secret.
set -Eeuo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: deploy/backup.sh [--env FILE] DEST_DIR

Writes DEST_DIR/iryo-portal-YYYYMMDDTHHMMSSZ/ (mode 0700) and prints its path on the last line:
  database.sqlite3   SQLite: a consistent copy made with SQLite's online backup API while the portal runs
                     (sqlite3 ".backup", or better-sqlite3's backup() when the sqlite3 CLI is not installed),
                     then checked with "pragma integrity_check". Never cp a database in WAL mode: recent
                     changes live in the -wal file.
  database.pgdump    PostgreSQL: pg_dump -Fc (one consistent snapshot); only the portal's schema when
                     DATABASE_URL selects one (options=-c search_path=NAME).
  session-secret     the secret the instances use: SESSION_SECRET, or DATA_DIR/session-secret. Queued mails
                     are sealed with it; without it they cannot be opened after a restore.
  MANIFEST           what was saved, from where, and sha256 sums.

Settings are those of the instances: DATABASE_URL, DATA_DIR, SESSION_SECRET from the environment, or from
--env FILE (the systemd EnvironmentFile, e.g. /etc/iryo-portal/iryo-portal.env). Relative paths are taken
from the install directory. The backup holds secrets: keep it where only operators can read it.
Example (cron, as root):  deploy/backup.sh --env /etc/iryo-portal/iryo-portal.env /var/backups/iryo-portal
EOF
}

DEST=''
while [ $# -gt 0 ]; do
  case "$1" in
    --env) [ $# -ge 2 ] || usage_error "--env needs a FILE"; load_env_file "$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *) [ -z "$DEST" ] || usage_error "one DEST_DIR only"; DEST=$1; shift ;;
  esac
done
[ -n "$DEST" ] || usage_error "missing DEST_DIR"
read_settings

umask 077
mkdir -p "$DEST"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$(cd "$DEST" && pwd)/iryo-portal-$STAMP"
[ ! -e "$OUT" ] || die "$OUT already exists"
mkdir "$OUT.partial"
trap 'rm -rf "$OUT.partial"' EXIT

if [ "$DB_KIND" = sqlite ]; then
  [ -f "$SQLITE_PATH" ] || die "no SQLite database at $SQLITE_PATH"
  DB_FILE=database.sqlite3
  TOOL=$(sqlite_tool)
  if [ "$TOOL" = sqlite3 ]; then
    case "$OUT" in *"'"*) die "the destination path must not contain a quote" ;; esac
    sqlite3 "$SQLITE_PATH" '.timeout 10000' ".backup '$OUT.partial/$DB_FILE'" >/dev/null || die "sqlite3 .backup failed"
    HOW="sqlite3 .backup (online backup API)"
  else
    (cd "$ROOT" && SRC="$SQLITE_PATH" DST="$OUT.partial/$DB_FILE" "$NODE" -e '
      const Database = require("better-sqlite3");
      const db = new Database(process.env.SRC, { fileMustExist: true });
      db.pragma("busy_timeout = 10000");
      db.backup(process.env.DST).then(() => db.close(), (e) => { console.error(e.message); process.exit(1); });') \
      || die "better-sqlite3 backup() failed"
    HOW="better-sqlite3 backup() (online backup API)"
  fi
  sqlite_standalone "$OUT.partial/$DB_FILE" || die "cannot finish the copy"
  check=$(sqlite_integrity "$OUT.partial/$DB_FILE")
  [ "$check" = ok ] || die "the copy fails its integrity check: $check"
  SOURCE=$SQLITE_PATH
else
  command -v pg_dump >/dev/null || die "pg_dump is not installed (Debian: apt-get install postgresql-client)"
  DB_FILE=database.pgdump
  args=(--format=custom --no-owner --no-privileges --file="$OUT.partial/$DB_FILE")
  [ -n "${PG_SCHEMA:-}" ] && args+=(--schema="$PG_SCHEMA")
  pg_dump "${args[@]}" "$PG_URI" || die "pg_dump failed"
  HOW="pg_dump -Fc${PG_SCHEMA:+ --schema=$PG_SCHEMA}"
  SOURCE="$(printf '%s' "$PG_URI" | sed 's#//[^@/]*@#//***@#; s#?.*##')${PG_SCHEMA:+ schema $PG_SCHEMA}"
fi

if [ -n "${SESSION_SECRET:-}" ]; then
  printf '%s\n' "$SESSION_SECRET" >"$OUT.partial/session-secret"
  SECRET_FROM="SESSION_SECRET (environment)"
elif [ -f "$SECRET_FILE" ]; then
  cp "$SECRET_FILE" "$OUT.partial/session-secret"
  SECRET_FROM=$SECRET_FILE
else
  die "no session secret: neither SESSION_SECRET nor $SECRET_FILE (without it queued mails cannot be opened)"
fi
chmod 600 "$OUT.partial"/*

{
  echo "iryo-portal backup $STAMP"
  echo "database: $DB_KIND $SOURCE"
  echo "method: $HOW"
  echo "session-secret: from $SECRET_FROM"
  echo "host: $(hostname)"
  echo
  (cd "$OUT.partial" && sha256sum "$DB_FILE" session-secret)
} >"$OUT.partial/MANIFEST"
mv "$OUT.partial" "$OUT"
trap - EXIT
echo "Backed up $DB_KIND database ($HOW) and the session secret to:"
echo "$OUT"
