"""Nuanxin (暖心): the web platform that matches winter aid to households in difficulty."""
