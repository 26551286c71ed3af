# Shared by bin/slipstream and .ci/run: find a JDK >= 25, install system packages, build.
# shellcheck shell=bash

SLIPSTREAM_ROOT=${SLIPSTREAM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SLIPSTREAM_MIN_JDK=${SLIPSTREAM_MIN_JDK:-25}  # overridable only to test the error path

die() {
    echo "slipstream: $*" >&2
    exit 1
}

# The feature version of the JDK at $1 (reads its release file), or nothing.
jdk_feature_version() {
    local release="$1/release" v
    [ -x "$1/bin/java" ] && [ -f "$release" ] || return 0
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
    echo "${v:-0}"
}

# Prints the home of a JDK >= 25: JAVA_HOME if it qualifies, else the newest under the usual
# roots. Exits with one clear line when there is none.
find_jdk() {
    local best="" best_v=0 home v
    if [ -n "${JAVA_HOME:-}" ]; then
        v=$(jdk_feature_version "$JAVA_HOME")
        if [ "${v:-0}" -ge "$SLIPSTREAM_MIN_JDK" ]; then
            echo "$JAVA_HOME"
            return
        fi
    fi
    for home in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* "$HOME"/.sdkman/candidates/java/*; do
        [ -d "$home" ] || continue
        v=$(jdk_feature_version "$home")
        if [ "${v:-0}" -ge "$SLIPSTREAM_MIN_JDK" ] && [ "$v" -gt "$best_v" ]; then
            best=$home
            best_v=$v
        fi
    done
    [ -n "$best" ] || die "no JDK $SLIPSTREAM_MIN_JDK or newer found (looked at JAVA_HOME, /usr/lib/jvm, /opt); install one, e.g. Temurin 25, or set JAVA_HOME"
    echo "$best"
}

# Installs the Debian packages that provide the given commands, when any is missing.
# Arguments are command:package pairs. Without root it only warns: the tests that need those
# commands skip with their own message.
ensure_commands() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "slipstream: warning: missing ${missing[*]} (not root or no apt-get); tests that need them will skip" >&2
        return 0
    fi
    echo "slipstream: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_maven() {
    command -v mvn >/dev/null 2>&1 || ensure_commands mvn:maven
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is required and could not be installed"
}

# Maven runs on whatever java is on PATH; the toolchains plugin compiles and tests on the JDK
# >= 25 it discovers. find_jdk is called first so a missing JDK is one clear line.
run_maven() {
    ensure_maven
    find_jdk >/dev/null
    # Maven 3.8 prints ANSI resets even in batch mode; strip them (pipefail keeps its status).
    (cd "$SLIPSTREAM_ROOT" && mvn -B "$@") 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
    return "${PIPESTATUS[0]}"
}

SHIM_JAR_GLOB="$SLIPSTREAM_ROOT/socket-shim/target/socket-shim-*.jar"

# Builds the jars when missing or older than any source or pom.
ensure_built() {
    local jar stamp="$SLIPSTREAM_ROOT/socket-shim/target/.built"
    jar=$(ls $SHIM_JAR_GLOB 2>/dev/null | grep -v -- '-tests.jar' | head -1 || true)
    # Set by tests that run this script inside a Maven build, which has just packaged the jars.
    if [ -n "${SLIPSTREAM_NO_BUILD:-}" ]; then
        [ -n "$jar" ] || die "SLIPSTREAM_NO_BUILD is set but there is no socket-shim jar; run bin/slipstream build"
        return 0
    fi
    if [ -z "$jar" ] || [ ! -f "$stamp" ] || [ -n "$(find "$SLIPSTREAM_ROOT" -path '*/target' -prune -o \
        \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$stamp" -print -quit)" ]; then
        echo "slipstream: building (mvn package -DskipTests)..." >&2
        run_maven -q -DskipTests package -pl socket-shim,nic-drivers/linux-drivers -am
        touch "$stamp"
    fi
}

# java on the launcher's class path, with native access granted for the FFM drivers.
run_java() {
    local jdk jar
    jdk=$(find_jdk)
    jar=$(ls $SHIM_JAR_GLOB | grep -v -- '-tests.jar' | head -1)
    exec "$jdk/bin/java" --enable-native-access=ALL-UNNAMED -cp "$jar:$SLIPSTREAM_ROOT/socket-shim/target/lib/*" "$@"
}
