//go:build !linux

package confinetest

// KernelHas reports that no layer exists outside Linux.
func KernelHas(layer string) (bool, string) {
	return false, "confinement is implemented for Linux only"
}
