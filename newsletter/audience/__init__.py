"""newsletter/audience"""
