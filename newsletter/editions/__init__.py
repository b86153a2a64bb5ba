"""newsletter/editions"""
