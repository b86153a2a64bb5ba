"""newsletter/words"""
