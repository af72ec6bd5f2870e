//go:build !darwin

package platform

// splitFamilies: one dual-stack socket serves both families here.
const splitFamilies = false
