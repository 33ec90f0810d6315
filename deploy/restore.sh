#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh: the database and the session secret.
set -Eeuo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: deploy/restore.sh [--env FILE] [--yes] [--keep-current-secret] BACKUP_DIR

Stop every instance first (systemctl stop 'iryo-portal@*'), restore, then start them again.
  SQLite       the database file is replaced by the backup (after its integrity check); the current file and
               its -wal/-shm are moved aside as PATH.before-restore-STAMP*, never deleted.
  PostgreSQL   pg_restore --clean --if-exists --single-transaction: all or nothing.
  secret       the backed-up session secret goes to DATA_DIR/session-secret (the current one, if different,
               is kept as session-secret.before-restore-STAMP). When SESSION_SECRET is set in the
               environment or the --env FILE, it must equal the backed-up one: set it there first, or pass
               --keep-current-secret (queued mails of the backup then cannot be opened, sessions end).
--yes is required to replace an existing database. Settings as for deploy/backup.sh (--env FILE or the
environment: DATABASE_URL, DATA_DIR, SESSION_SECRET).
EOF
}

YES=0
KEEP_SECRET=0
BACKUP=''
while [ $# -gt 0 ]; do
  case "$1" in
    --env) [ $# -ge 2 ] || usage_error "--env needs a FILE"; load_env_file "$2"; shift 2 ;;
    --yes) YES=1; shift ;;
    --keep-current-secret) KEEP_SECRET=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *) [ -z "$BACKUP" ] || usage_error "one BACKUP_DIR only"; BACKUP=$1; shift ;;
  esac
done
[ -n "$BACKUP" ] || usage_error "missing BACKUP_DIR"
[ -f "$BACKUP/MANIFEST" ] || die "$BACKUP is not a backup made by deploy/backup.sh (no MANIFEST)"
read_settings
umask 077
STAMP=$(date -u +%Y%m%dT%H%M%SZ)

# Everything is checked before anything is changed.
(cd "$BACKUP" && sed -n '/^[0-9a-f]\{64\}  /p' MANIFEST | sha256sum --check --quiet) || die "$BACKUP is damaged: checksums do not match its MANIFEST"
[ -s "$BACKUP/session-secret" ] || die "$BACKUP has no session-secret"
BACKUP_SECRET=$(head -n 1 "$BACKUP/session-secret")
if [ -n "${SESSION_SECRET:-}" ] && [ "$SESSION_SECRET" != "$BACKUP_SECRET" ] && [ "$KEEP_SECRET" = 0 ]; then
  die "SESSION_SECRET differs from the backed-up secret. Set SESSION_SECRET to the content of $BACKUP/session-secret (in the EnvironmentFile of every instance) and run again, or pass --keep-current-secret."
fi

if [ "$DB_KIND" = sqlite ]; then
  [ -f "$BACKUP/database.sqlite3" ] || die "$BACKUP holds no SQLite database (it is a $(sed -n 's/^database: \([a-z]*\).*/\1/p' "$BACKUP/MANIFEST") backup)"
  check=$(sqlite_integrity "$BACKUP/database.sqlite3")
  [ "$check" = ok ] || die "the backed-up database fails its integrity check: $check"
  if [ -e "$SQLITE_PATH" ]; then
    [ "$YES" = 1 ] || die "$SQLITE_PATH exists: stop the instances and pass --yes to replace it"
    for suffix in '' -wal -shm; do
      if [ -e "$SQLITE_PATH$suffix" ]; then mv "$SQLITE_PATH$suffix" "$SQLITE_PATH.before-restore-$STAMP$suffix"; fi
    done
    echo "The previous database was moved to $SQLITE_PATH.before-restore-$STAMP"
  fi
  dir=$(dirname "$SQLITE_PATH")
  mkdir -p "$dir"
  cp "$BACKUP/database.sqlite3" "$SQLITE_PATH.restoring"
  # Run as root for a service user: the file goes to the owner of its directory, as the instances need.
  if [ "$(id -u)" = 0 ]; then chown --reference="$dir" "$SQLITE_PATH.restoring"; fi
  mv "$SQLITE_PATH.restoring" "$SQLITE_PATH"
else
  [ -f "$BACKUP/database.pgdump" ] || die "$BACKUP holds no PostgreSQL dump"
  command -v pg_restore >/dev/null || die "pg_restore is not installed (Debian: apt-get install postgresql-client)"
  [ "$YES" = 1 ] || die "restoring replaces the portal's tables in the database of DATABASE_URL: stop the instances and pass --yes"
  pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error --dbname="$PG_URI" "$BACKUP/database.pgdump" \
    || die "pg_restore failed; nothing was changed (single transaction)"
fi

if [ -z "${SESSION_SECRET:-}" ]; then
  secret_dir=$(dirname "$SECRET_FILE")
  mkdir -p "$secret_dir"
  if [ -f "$SECRET_FILE" ] && [ "$(head -n 1 "$SECRET_FILE")" != "$BACKUP_SECRET" ]; then
    mv "$SECRET_FILE" "$SECRET_FILE.before-restore-$STAMP"
  fi
  cp "$BACKUP/session-secret" "$SECRET_FILE.restoring"
  chmod 600 "$SECRET_FILE.restoring"
  if [ "$(id -u)" = 0 ]; then chown --reference="$secret_dir" "$SECRET_FILE.restoring"; fi
  mv "$SECRET_FILE.restoring" "$SECRET_FILE"
  SECRET_NOTE="session secret written to $SECRET_FILE"
elif [ "$SESSION_SECRET" = "$BACKUP_SECRET" ]; then
  SECRET_NOTE="SESSION_SECRET already matches the backup"
else
  SECRET_NOTE="SESSION_SECRET kept as it is (--keep-current-secret): queued mails from the backup cannot be opened"
fi
echo "Restored the $DB_KIND database from $BACKUP; $SECRET_NOTE."
echo "Start the instances again (systemctl start iryo-portal@3001 iryo-portal@3002) and check /readyz."
