"""The Nuanxin matching engine: a pure library (numpy, scipy, OR-Tools)."""
