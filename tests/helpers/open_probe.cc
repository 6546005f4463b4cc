// SPDX-License-Identifier: Apache-2.0
// Opens argv[1] for reading and prints "0" or the errno of the failure; exits 0 either way. The
// confinement tests run it under a ruleset to see what the kernel lets through. No project code: it
// is the thing being confined.
#include <fcntl.h>

#include <cerrno>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: open_probe PATH\n");
        return 2;
    }
    const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    std::printf("%d\n", fd >= 0 ? 0 : errno);
    return 0;
}
