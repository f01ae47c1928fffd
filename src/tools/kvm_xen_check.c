/* kxen-kvm-check: does this machine's /dev/kvm have the Xen support kxen needs?
 *
 * Prints "KVM_CAP_XEN_HVM=0x<flags>" and exits 0 when the flags include
 * INTERCEPT_HCALL (hypercalls reach user space), SHARED_INFO (KVM keeps the
 * shared_info page and vcpu_info) and EVTCHN_SEND (in-kernel event channel
 * delivery); otherwise prints the reason on stderr and exits 1.  Used by the
 * test host's init after loading the rebuilt kvm modules and by
 * scripts/testhost/detect.sh to decide whether kxen can run directly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static const struct {
	unsigned int bit;
	const char *name;
} kvm_check_required[] = {
    {KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, "INTERCEPT_HCALL"},
    {KVM_XEN_HVM_CONFIG_SHARED_INFO, "SHARED_INFO"},
    {KVM_XEN_HVM_CONFIG_EVTCHN_SEND, "EVTCHN_SEND"},
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/kvm";
	int fd, api, caps;
	unsigned int missing = 0;
	size_t i;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kxen-kvm-check: cannot open %s: %s\n", path,
			strerror(errno));
		return EXIT_FAILURE;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr,
			"kxen-kvm-check: %s: KVM API version %d, want %d\n",
			path, api, KVM_API_VERSION);
		close(fd);
		return EXIT_FAILURE;
	}
	caps = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	close(fd);
	if (caps < 0) {
		fprintf(stderr, "kxen-kvm-check: KVM_CHECK_EXTENSION: %s\n",
			strerror(errno));
		return EXIT_FAILURE;
	}
	printf("KVM_CAP_XEN_HVM=0x%x\n", (unsigned int)caps);
	fflush(stdout);
	if (caps == 0) {
		fprintf(stderr,
			"kxen-kvm-check: %s has no Xen support (kernel built "
			"without CONFIG_KVM_XEN)\n",
			path);
		return EXIT_FAILURE;
	}
	for (i = 0;
	     i < sizeof(kvm_check_required) / sizeof(kvm_check_required[0]);
	     i++) {
		if (!(caps & kvm_check_required[i].bit)) {
			fprintf(stderr,
				"kxen-kvm-check: KVM_XEN_HVM_CONFIG_%s missing "
				"(kernel KVM too old)\n",
				kvm_check_required[i].name);
			missing++;
		}
	}
	return missing ? EXIT_FAILURE : EXIT_SUCCESS;
}
