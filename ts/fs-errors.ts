/** A short phrase for a failed file-system call, for messages of the form `<field>: <path>: <phrase>`. */
export function describeFsError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'not found';
    case 'ENOTDIR':
      return 'not found (a parent is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EISDIR':
      return 'is a directory';
    case 'EBUSY':
      return 'in use (mounted, or opened exclusively by another program)';
    case 'EROFS':
      return 'read-only filesystem';
    case 'EIO':
      return 'input/output error (EIO)';
    case 'EFAULT':
      return 'bad address (EFAULT)';
    case 'EINVAL':
      return 'invalid argument (EINVAL)';
    case 'ENXIO':
      return 'no such device or address (ENXIO)';
    case 'ENOMEDIUM':
      return 'no medium in the drive';
    default:
      return error.message;
  }
}
