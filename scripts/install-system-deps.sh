#!/usr/bin/env bash
# Installs the Debian packages imgforge's tests use to check images independently, when missing.
set -euo pipefail

declare -A package_of=(
  [sgdisk]=gdisk
  [sfdisk]=fdisk
  [gdisk]=gdisk
  # MBR tables are checked with parted and partx too.
  [parted]=parted
  [partx]=util-linux
  [losetup]=mount
  [mkfs.xfs]=xfsprogs
  [xfs_io]=xfsprogs
  [filefrag]=e2fsprogs
  [mkfs.ext4]=e2fsprogs
  # ext4 and squashfs partitions are built with these (issue 14): real dependencies of imgforge.
  [debugfs]=e2fsprogs
  [mksquashfs]=squashfs-tools
  [unsquashfs]=squashfs-tools
  [fsck.fat]=dosfstools
  [mdir]=mtools
  [fsck.erofs]=erofs-utils
  # qemu-img checks and compares the qcow2 and VHD files imgforge writes.
  [qemu-img]=qemu-utils
  [setpriv]=util-linux
  [fallocate]=util-linux
  # The independent readers of the delivery formats (issue 17).
  [simg2img]=android-sdk-libsparse-utils
  [bmaptool]=bmap-tools
  [zstd]=zstd
  [xz]=xz-utils
  [gzip]=gzip
  # A real terminal for the test of plan's coloured picture.
  [tmux]=tmux
  # The shells whose completion scripts the tests load.
  [zsh]=zsh
  [fish]=fish
  # dm-verity (issue 15): veritysetup checks and re-creates the hash trees; openssl signs the
  # root hash (the build itself needs it for signature partitions) and checks the signature.
  [veritysetup]=cryptsetup-bin
  [openssl]=openssl
  # systemd-dissect finds the data, hash and signature partitions by the DPS rules.
  [systemd-dissect]=systemd-container
)
missing=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing packages: $packages(run as root, or install them with apt-get)" >&2
  exit 0
fi
echo "install-system-deps: installing $packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $packages >/dev/null
