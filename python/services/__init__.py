"""Services of the wealth-management platform."""
