"""newsletter/config"""
