#!/bin/sh
# Fails when protocol/, sim/ or views/ reach for nondeterminism: a wall clock, the C
# or std:: random sources, real sleeping, or unordered containers (whose
# iteration order differs between standard libraries and runs). Everything of
# the kind must come through the runtime's Clock and DecisionSource.
#   ban_nondeterminism.sh SOURCE_ROOT
root=${1:?usage: ban_nondeterminism.sh SOURCE_ROOT}
pattern='system_clock|steady_clock|high_resolution_clock|(^|[^A-Za-z0-9_])s?rand[[:space:]]*\(|random_device|sleep_for|sleep_until|(^|[^A-Za-z0-9_])u?sleep[[:space:]]*\(|nanosleep|unordered_map|unordered_set|unordered_multimap|unordered_multiset|(^|[^A-Za-z0-9_])time[[:space:]]*\([[:space:]]*(NULL|nullptr|0)[[:space:]]*\)|gettimeofday|clock_gettime'
found=$(grep -rnE "$pattern" "$root/protocol" "$root/sim" "$root/views" --include='*.h' --include='*.hpp' --include='*.cpp' --include='*.cc')
if [ -n "$found" ]; then
    echo "nondeterminism in protocol/, sim/ or views/ (use the runtime's Clock and DecisionSource):"
    echo "$found"
    exit 1
fi
echo "protocol/, sim/ and views/ are free of wall clocks, global randomness, sleeps and unordered containers"
