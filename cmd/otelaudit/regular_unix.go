//go:build unix

package main

import "syscall"

// openNonBlock makes an open of a FIFO return at once instead of waiting
// for a writer; it changes nothing for a regular file.
const openNonBlock = syscall.O_NONBLOCK
