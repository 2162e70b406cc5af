"""Sweeps: a grid of configurations, each trained over many seeds as one population, run as Ray
tasks on this machine or a cluster, and written as a sweep folder of run folders.

    grid -> task (and seed blocks) -> cluster -> execution -> folder -> figure, page, progress
"""
