# Reports what the guest kernel sees: processors and memory.
echo "GUEST-CPUS=$(grep -c '^processor' /proc/cpuinfo)"
echo "GUEST-MEMTOTAL-KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
