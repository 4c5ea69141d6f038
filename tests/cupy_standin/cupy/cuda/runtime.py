"""`cupy.cuda.runtime` of the stand-in: one device, CUDA 12.8."""

is_hip = False
CUDA_VERSION = 12080


def getDeviceCount():
    return 1


def runtimeGetVersion():
    return 12080


def driverGetVersion():
    return 12080


def getDevice():
    return 0


def setDevice(device):
    if int(device) != 0:
        raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


def deviceSynchronize():
    pass


def getDeviceProperties(device):
    return {"name": b"CuPy stand-in (CPU)", "major": 8, "minor": 0,
            "totalGlobalMem": 80 << 30, "multiProcessorCount": 108,
            "maxThreadsPerBlock": 1024, "sharedMemPerBlock": 49152,
            "warpSize": 32}


def memGetInfo():
    return (80 << 30, 80 << 30)
