"""newsletter/feedback"""
