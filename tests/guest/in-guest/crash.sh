# Crashes the kernel (panic -> SCHEDOP_shutdown crash).
echo "GUEST-CRASHING"
echo c > /proc/sysrq-trigger
