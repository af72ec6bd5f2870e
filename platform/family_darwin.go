package platform

// splitFamilies: macOS gets one socket per IP family (see listenPlan).
const splitFamilies = true
