#!/bin/sh
# Run by the nginx image's entrypoint (/docker-entrypoint.d/) before nginx starts. nginx resolves
# its upstream servers' names once, at start and at each reload; a replica started again may come
# back with another address (podman gives it a new one). Every 5 seconds this looks the names up
# again and reloads nginx when an answer changed: a reload while a replica is away fails and
# leaves nginx as it was; the one after it came back lets it rejoin. (nginx 1.27.3 and later can
# do this itself: `server relay-1:9090 resolve;` with a `resolver` and a `zone`.)
conf=/etc/nginx/conf.d/default.conf
names=$(sed -n 's/^[[:space:]]*server[[:space:]][[:space:]]*\([A-Za-z][A-Za-z0-9.-]*\):[0-9].*/\1/p' "$conf" | sort -u)
[ -n "$names" ] || exit 0
(
  last=$(getent hosts $names | sort)
  while sleep 5; do
    now=$(getent hosts $names | sort)
    if [ "$now" != "$last" ]; then
      echo "$0: upstream addresses changed, reloading nginx"
      nginx -s reload || true
    fi
    last=$now
  done
) &
