; Inno Setup 6 script: installs the one-folder build dist\EdgeDeployStudio (packaging/build.py)
; under Program Files with a Start-menu shortcut and an uninstaller.
;
;   iscc /DAppVersion=0.1.0 installer.iss      (run from the repository root, on Windows)
;
; NOT compiled or tested yet: it was written on Linux without Inno Setup (see packaging/README.md).
;
; Per-user data is not the installer's: the studio keeps settings, bundles, job outputs and its
; cache in the platformdirs folders (%LOCALAPPDATA%\EdgeDeployStudio), never in {app}. The
; uninstaller removes only what this script installed, so that data stays, as do hub tokens in
; Windows Credential Manager.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Edge Deploy Studio"
#define AppExe "EdgeDeployStudio.exe"
#define BuildDir "dist\EdgeDeployStudio"

[Setup]
; AppId identifies the app for upgrades and the uninstaller: never change it.
AppId={{6B1C8E52-3F7A-4D0B-9E21-5A7C4F3D8B10}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Edge Deploy Studio
DefaultDirName={autopf}\EdgeDeployStudio
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Program Files needs administrator rights; the dialog lets a user without them install for
; themselves instead (then {autopf} and {autoprograms} are the per-user folders).
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
; The build holds x64 binaries only (Python, Qt, onnxruntime).
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Qt 6 supports Windows 10 1809 (build 17763) and later.
MinVersion=10.0.17763
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir=dist
OutputBaseFilename=EdgeDeployStudio-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; Close a running studio before replacing its files.
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole build folder: EdgeDeployStudio.exe (the app), studio.exe (the command line) and
; _internal\ (Python, Qt, onnxruntime, assets).
Source: "{#BuildDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
